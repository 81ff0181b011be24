using Apertur.Server.Qr;
using Shouldly;

namespace Apertur.UnitTests.Qr;

public sealed class QrColorTests
{
    [Theory]
    [InlineData("336699", 0x33, 0x66, 0x99)]
    [InlineData("#336699", 0x33, 0x66, 0x99)]
    [InlineData("AbCdEf", 0xab, 0xcd, 0xef)]
    [InlineData("abc", 0xaa, 0xbb, 0xcc)]
    [InlineData("#F0a", 0xff, 0x00, 0xaa)]
    [InlineData(" 000000 ", 0, 0, 0)]
    public void TryParse_HexForms_Parse(string text, byte r, byte g, byte b)
    {
        QrColor.TryParse(text, out var color).ShouldBeTrue();
        color.ShouldBe(new QrColor(r, g, b));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("#")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("ggg")]
    [InlineData("##abc")]
    [InlineData("red")]
    [InlineData("0x123456")]
    [InlineData("12 345")]
    [InlineData("１２３")]
    public void TryParse_Other_Fails(string? text) => QrColor.TryParse(text, out _).ShouldBeFalse();

    [Fact]
    public void ToHex_IsLowercaseWithHash() => new QrColor(0xAB, 0x01, 0xFF).ToHex().ShouldBe("#ab01ff");
}
