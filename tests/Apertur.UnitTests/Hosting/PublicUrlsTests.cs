using Apertur.Server.Hosting;
using Shouldly;

namespace Apertur.UnitTests.Hosting;

public sealed class PublicUrlsTests
{
    [Theory]
    [InlineData("http://+:5080", "http://localhost:5080")]
    [InlineData("http://*:5080", "http://localhost:5080")]
    [InlineData("http://0.0.0.0:5080", "http://localhost:5080")]
    [InlineData("https://[::]:443", "https://localhost:443")]
    [InlineData("http://[::]", "http://localhost")]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080")]
    [InlineData("http://photos.example.com:80", "http://photos.example.com:80")]
    [InlineData("http://0.0.0.0.example.com:80", "http://0.0.0.0.example.com:80")]
    public void WithWildcardHostAs_OnlyTheWildcardHostChanges(string address, string expected) =>
        PublicUrls.WithWildcardHostAs(address, "localhost").ShouldBe(expected);
}
