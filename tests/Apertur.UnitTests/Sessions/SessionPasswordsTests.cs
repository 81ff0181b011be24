using Apertur.Server.Sessions;
using Shouldly;

namespace Apertur.UnitTests.Sessions;

public sealed class SessionPasswordsTests
{
    [Fact]
    public void Verify_RightAndWrongPassword()
    {
        var hash = SessionPasswords.Hash("correct horse");
        hash.ShouldStartWith("pbkdf2-sha256$");
        hash.ShouldNotContain("correct horse");
        SessionPasswords.Verify("correct horse", hash).ShouldBeTrue();
        SessionPasswords.Verify("correct horsE", hash).ShouldBeFalse();
        SessionPasswords.Hash("correct horse").ShouldNotBe(hash);
    }

    [Fact]
    public void Verify_GarbageStoredValue_IsFalse() => SessionPasswords.Verify("x", "not-a-hash").ShouldBeFalse();
}
