using Apertur.Server.Uploads;
using Shouldly;

namespace Apertur.UnitTests.Uploads;

public sealed class UploadFilenamesTests
{
    [Theory]
    [InlineData("photo.jpg", "image/jpeg", "photo.jpg")]
    [InlineData("IMG_0001.JPG", "image/jpeg", "IMG_0001.JPG")]
    [InlineData("holiday.jpeg", "image/jpeg", "holiday.jpeg")]
    [InlineData("scan.png", "image/jpeg", "scan.jpg")]
    [InlineData("photo.heif", "image/heic", "photo.heif")]
    [InlineData("my.holiday.photo", "image/png", "my.holiday.photo.png")]
    [InlineData("no-extension", "image/webp", "no-extension.webp")]
    [InlineData("../../etc/passwd", "image/png", "passwd.png")]
    [InlineData("C:\\Users\\me\\Desktop\\shot.png", "image/png", "shot.png")]
    [InlineData("\"quoted.jpg\"", "image/jpeg", "quoted.jpg")]
    [InlineData(".htaccess", "image/jpeg", "htaccess.jpg")]
    [InlineData("...", "image/jpeg", "image.jpg")]
    [InlineData("", "image/png", "image.png")]
    [InlineData(null, "image/heic", "image.heic")]
    [InlineData("a\u0000b\u001fc.jpg", "image/jpeg", "abc.jpg")]
    [InlineData("evil\u202Egpj.exe", "image/jpeg", "evilgpj.exe.jpg")]
    [InlineData("rm -rf $(x);`y`|z.jpg", "image/jpeg", "rm -rf _(x)__y__z.jpg")]
    [InlineData("Café  crème.jpg", "image/jpeg", "Café crème.jpg")]
    [InlineData("e\u0301te\u0301.png", "image/png", "e\u0301te\u0301.png")]
    [InlineData("写真 2026.jpg", "image/jpeg", "写真 2026.jpg")]
    [InlineData("a..b.jpg", "image/jpeg", "a.b.jpg")]
    public void Sanitise_MakesSafeNamesWithTheRealExtension(string? given, string mime, string expected)
    {
        UploadFilenames.Sanitise(given, mime).ShouldBe(expected);
    }

    [Theory]
    [InlineData("image.jpg.enc", "image/png", "image.png")]
    [InlineData("holiday.JPG.ENC", "image/jpeg", "holiday.JPG")]
    [InlineData("plain.enc", "image/webp", "plain.webp")]
    public void Sanitise_EncryptedNames_LoseTheirEncSuffix(string given, string mime, string expected)
    {
        UploadFilenames.Sanitise(given, mime, encrypted: true).ShouldBe(expected);
    }

    [Fact]
    public void Sanitise_CapsLengthWithoutSplittingCharacters()
    {
        var name = string.Concat(Enumerable.Repeat("😀", 150)) + ".jpg";
        var result = UploadFilenames.Sanitise(name, "image/jpeg");
        result.ShouldBe(new string('_', 100) + ".jpg");
        var cjk = UploadFilenames.Sanitise(new string('写', 300) + ".png", "image/png");
        cjk.ShouldBe(new string('写', 100) + ".png");
    }
}
