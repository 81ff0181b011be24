using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Keys;
using Shouldly;

namespace Apertur.UnitTests.Keys;

public sealed class RequestSignatureTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void Compute_GoSdkVectorWithBody_Matches()
    {
        var body = SHA256.HashData(Encoding.UTF8.GetBytes("""{"a":1}"""));
        RequestSignature.Compute(Secret, "1800000000", "POST", "/api/v1/upload-sessions", body)
            .ShouldBe("sha256=d5bf88c946aa6cf4397749eacd05cf058e6828878f9b1c84830cb7c07a234d3e");
    }

    [Fact]
    public void Compute_GoSdkVectorWithoutBody_MatchesAndMethodIsCaseInsensitive()
    {
        var empty = SHA256.HashData([]);
        RequestSignature.Compute(Secret, "1800000000", "get", "/api/v1/uploads/abc", empty)
            .ShouldBe("sha256=f53cf714f69187170c4fdb22c53e0b53578dcbcb61e63b56948d5e1fd8294a3e");
    }
}
