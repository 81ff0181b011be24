using Apertur.Server.Keys;
using Shouldly;

namespace Apertur.UnitTests.Keys;

public sealed class DomainAllowListTests
{
    [Theory]
    [InlineData("shop.example.com", "https://shop.example.com", true)]
    [InlineData("shop.example.com", "http://shop.example.com", true)]
    [InlineData("shop.example.com", "https://shop.example.com:8443", true)]
    [InlineData("Shop.Example.COM", "https://shop.example.com", true)]
    [InlineData("shop.example.com", "https://SHOP.example.com", true)]
    [InlineData("shop.example.com", "https://example.com", false)]
    [InlineData("shop.example.com", "https://www.shop.example.com", false)]
    [InlineData("shop.example.com", "https://shop.example.com.evil.test", false)]
    [InlineData("shop.example.com", "https://evilshop.example.com", false)]
    [InlineData("example.com", "https://notexample.com", false)]
    [InlineData("*.example.com", "https://shop.example.com", true)]
    [InlineData("*.example.com", "https://a.b.example.com", true)]
    [InlineData("*.example.com", "https://example.com", false)]
    [InlineData("*.example.com", "https://badexample.com", false)]
    [InlineData("https://shop.example.com", "https://shop.example.com", true)]
    [InlineData("https://shop.example.com", "http://shop.example.com", false)]
    [InlineData("http://shop.example.com", "http://shop.example.com", true)]
    [InlineData("http://shop.example.com", "https://shop.example.com", true)]
    [InlineData("localhost:3000", "http://localhost:3000", true)]
    [InlineData("localhost:3000", "http://localhost:3001", false)]
    [InlineData("localhost:3000", "http://localhost", false)]
    [InlineData("shop.example.com:443", "https://shop.example.com", true)]
    [InlineData("https://shop.example.com/", "https://shop.example.com", true)]
    [InlineData("192.168.1.10:8080", "http://192.168.1.10:8080", true)]
    [InlineData("shop.example.com", "null", false)]
    [InlineData("shop.example.com", "", false)]
    [InlineData("shop.example.com", "file://shop.example.com", false)]
    [InlineData("shop.example.com", "https://shop.example.com/page", false)]
    public void Allows_OneEntry_MatchesByTheDocumentedRules(string entry, string origin, bool allowed) =>
        DomainAllowList.Allows([entry], origin).ShouldBe(allowed, $"{entry} vs {origin}");

    [Fact]
    public void Allows_SeveralEntries_AnyOneAllows()
    {
        string[] entries = ["shop.example.com", "https://*.partner.test"];
        DomainAllowList.Allows(entries, "https://cdn.partner.test").ShouldBeTrue();
        DomainAllowList.Allows(entries, "http://cdn.partner.test").ShouldBeFalse();
        DomainAllowList.Allows(entries, "https://elsewhere.test").ShouldBeFalse();
        DomainAllowList.Allows([], "https://shop.example.com").ShouldBeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("*.com")]
    [InlineData("ftp://shop.example.com")]
    [InlineData("shop.example.com/path")]
    [InlineData("shop.example.com:0")]
    [InlineData("shop.example.com:70000")]
    [InlineData("shop..example.com")]
    [InlineData("-shop.example.com")]
    [InlineData("shop.example.com; script-src *")]
    [InlineData("shop example.com")]
    [InlineData("sub.*.example.com")]
    [InlineData("boutique.exemple.café")]
    public void TryParse_NotAHostEntry_IsRefused(string entry)
    {
        DomainAllowList.TryParse(entry, out _).ShouldBeFalse(entry);
        DomainAllowList.Allows([entry], "https://shop.example.com").ShouldBeFalse(entry);
    }

    [Fact]
    public void FrameAncestors_Entries_BecomeCspSourcesAfterSelf()
    {
        DomainAllowList.FrameAncestors(["shop.example.com", "*.example.org", "https://secure.test:8443", "http://plain.test", "not valid;"])
            .ShouldBe("'self' https://shop.example.com:* http://shop.example.com:* https://*.example.org:* http://*.example.org:* "
                + "https://secure.test:8443 http://plain.test:*");
    }

    [Fact]
    public void FrameAncestors_NoValidEntry_IsSelfOnly() => DomainAllowList.FrameAncestors(["%%%"]).ShouldBe("'self'");
}
