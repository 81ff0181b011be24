using Apertur.Server.Keys;
using Shouldly;

namespace Apertur.UnitTests.Keys;

public sealed class ApiKeyTokensTests
{
    [Fact]
    public void Generate_LiveAndTest_AreWellFormedAndCarryTheirEnv()
    {
        var live = ApiKeyTokens.Generate(ApiKeyTokens.Live);
        var test = ApiKeyTokens.Generate(ApiKeyTokens.Test);
        live.ShouldStartWith("aptr_live_");
        test.ShouldStartWith("aptr_test_");
        ApiKeyTokens.IsWellFormed(live).ShouldBeTrue();
        ApiKeyTokens.EnvOf(live).ShouldBe("live");
        ApiKeyTokens.EnvOf(test).ShouldBe("test");
        ApiKeyTokens.PrefixOf(live).Length.ShouldBe("aptr_live_".Length + 4);
        ApiKeyTokens.Generate(ApiKeyTokens.Live).ShouldNotBe(live);
    }

    [Theory]
    [InlineData("aptr_live_short")]
    [InlineData("aptr_prod_abcdefghijklmnopqrstuvwxyz")]
    [InlineData("aptr_live_abcdefghij-lmnopqrstuvwxyz")]
    [InlineData("")]
    [InlineData(null)]
    public void IsWellFormed_Malformed_IsFalse(string? key) => ApiKeyTokens.IsWellFormed(key).ShouldBeFalse();

    [Fact]
    public void EnvOf_AnythingButTestPrefix_IsLive() => ApiKeyTokens.EnvOf("aptr_oauth_xyz").ShouldBe("live");
}
