using Apertur.Server.Retention;
using Shouldly;

namespace Apertur.UnitTests.Retention;

/// <summary>Apertur:Retention settings (docs/operations.md "Retention"): a record outlives its image bytes.</summary>
public sealed class RetentionOptionsTests
{
    [Fact]
    public void Problems_Defaults_None() => new RetentionOptions().Problems().ShouldBeEmpty();

    [Fact]
    public void Problems_RecordsShorterThanMaxImageAge_NamesBoth()
    {
        var problems = new RetentionOptions { MaxImageAge = TimeSpan.FromDays(30), Records = TimeSpan.FromDays(29) }.Problems();

        problems.ShouldHaveSingleItem().ShouldStartWith("Apertur:Retention:Records must be at least MaxImageAge (30.00:00:00)");
    }

    [Fact]
    public void Problems_RecordsEqualToMaxImageAge_None() =>
        new RetentionOptions { MaxImageAge = TimeSpan.FromDays(3), Records = TimeSpan.FromDays(3) }.Problems().ShouldBeEmpty();
}
