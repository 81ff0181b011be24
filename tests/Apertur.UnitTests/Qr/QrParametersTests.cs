using Apertur.Server.Hosting;
using Apertur.Server.Qr;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Shouldly;

namespace Apertur.UnitTests.Qr;

public sealed class QrParametersTests
{
    private static QrParameters Parse(params (string Key, string Value)[] query) =>
        QrParameters.Parse(new QueryCollection(query.ToDictionary(q => q.Key, q => new StringValues(q.Value))));

    [Fact]
    public void Parse_Nothing_GivesTheAdvertisedDefaults()
    {
        var p = Parse();
        p.ShouldBe(new QrParameters(QrFormat.Png, 300, QrStyle.Square, new QrColor(0, 0, 0), new QrColor(255, 255, 255), 4, new QrColor(255, 255, 255)));
        Parse(QrOptions.DefaultParams.Select(kv => (kv.Key, kv.Value)).ToArray()).ShouldBe(p);
    }

    [Fact]
    public void Parse_EmptyValues_MeanDefault() =>
        Parse(("fg", ""), ("size", ""), ("format", "")).ShouldBe(Parse());

    [Fact]
    public void Parse_Everything_IsHonoured() =>
        Parse(("format", "SVG"), ("size", "2048"), ("style", "Rounded"), ("fg", "#123"), ("bg", "fedcba"), ("borderSize", "0"), ("borderColor", "#00ff00"))
            .ShouldBe(new QrParameters(QrFormat.Svg, 2048, QrStyle.Rounded, new QrColor(0x11, 0x22, 0x33), new QrColor(0xfe, 0xdc, 0xba), 0, new QrColor(0, 255, 0)));

    [Theory]
    [InlineData("size", "63")]
    [InlineData("size", "2049")]
    [InlineData("size", "+300")]
    [InlineData("borderSize", "257")]
    [InlineData("style", "dots")]
    [InlineData("bg", "#12")]
    public void Parse_OutOfRange_ThrowsInvalidParameter(string key, string value)
    {
        var e = Should.Throw<ApiException>(() => Parse((key, value)));
        e.Status.ShouldBe(400);
        e.Code.ShouldBe("INVALID_QR_PARAMETER");
        e.Message.ShouldContain(key);
    }

    [Theory]
    [InlineData("gif")]
    [InlineData("bmp")]
    public void Parse_OtherFormat_ThrowsUnsupportedFormat(string format)
    {
        var e = Should.Throw<ApiException>(() => Parse(("format", format)));
        e.Code.ShouldBe("UNSUPPORTED_QR_FORMAT");
        e.Message.ShouldContain("png, svg or jpeg");
    }

    [Fact]
    public void QrOptions_Formats_AreExactlyThoseServed() => QrOptions.Formats.ShouldBe(["png", "svg", "jpeg"]);
}
