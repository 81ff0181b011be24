using System.Text.RegularExpressions;
using Apertur.Server.UploadPage;
using Microsoft.Net.Http.Headers;
using Shouldly;

namespace Apertur.UnitTests.UploadPage;

public sealed partial class UploadPageTextTests
{
    [Fact]
    public void For_EveryLanguage_HasTheSameKeysAndPlaceholders()
    {
        var english = UploadPageText.KeysOf("en").Order().ToList();
        foreach (var language in UploadPageText.Languages)
        {
            UploadPageText.KeysOf(language).Order().ToList().ShouldBe(english, customMessage: language);
            var table = UploadPageText.For(language);
            foreach (var key in english)
            {
                table[key].ShouldNotBeNullOrWhiteSpace($"{language}.{key}");
                Placeholders(table[key]).ShouldBe(Placeholders(UploadPageText.For("en")[key]), $"{language}.{key}");
            }
        }
    }

    [Fact]
    public void For_UnknownLanguage_IsEnglish() => UploadPageText.For("de")["title"].ShouldBe("Send photos");

    [Theory]
    [InlineData("fr", "es-ES,es;q=0.9", "fr")]
    [InlineData("ES", null, "es")]
    [InlineData("de", "fr-CA,fr;q=0.9,en;q=0.8", "fr")]
    [InlineData(null, "de-DE,de;q=0.9,es;q=0.5,fr;q=0.4", "es")]
    [InlineData(null, "en;q=0.2,fr;q=0.8", "fr")]
    [InlineData(null, "fr;q=0,es;q=0.1", "es")]
    [InlineData(null, "de-DE", "en")]
    [InlineData(null, null, "en")]
    [InlineData("<script>", null, "en")]
    public void Choose_QueryThenAcceptLanguage_PicksAKnownLanguage(string? query, string? acceptLanguage, string expected)
    {
        var header = acceptLanguage is null ? [] : StringWithQualityHeaderValue.ParseList(acceptLanguage.Split(','));
        UploadPageText.Choose(query, header).ShouldBe(expected);
    }

    [Theory]
    [InlineData(20L * 1024 * 1024, "en", "20\u00a0MB")]
    [InlineData(20L * 1024 * 1024, "fr", "20\u00a0Mo")]
    [InlineData(1536L * 1024, "es", "1,5\u00a0MB")]
    [InlineData(300L * 1024, "fr", "300\u00a0Ko")]
    [InlineData(512L, "en", "512\u00a0B")]
    public void FormatSize_UsesTheLanguagesUnitAndDecimalMark(long bytes, string language, string expected) =>
        UploadModel.FormatSize(bytes, language).ShouldBe(expected);

    [Theory]
    [InlineData(0, "No photos left")]
    [InlineData(1, "1 photo left")]
    [InlineData(7, "7 photos left")]
    public void RemainingPhrase_CountsInEnglish(int remaining, string expected) =>
        UploadModel.RemainingPhrase(UploadPageText.For("en"), remaining).ShouldBe(expected);

    private static List<string> Placeholders(string text) => Placeholder().Matches(text).Select(m => m.Value).Order().ToList();

    [GeneratedRegex(@"\{[a-z]+\}")]
    private static partial Regex Placeholder();
}
