using Apertur.Destinations.Paths;

namespace Apertur.Destinations.Tests.Paths;

public sealed class PathTemplateTests
{
    private static readonly Guid SessionId = Guid.Parse("3f2a0000-0000-4000-8000-000000000001");
    private static readonly Guid ImageId = Guid.Parse("9b1c0000-0000-4000-8000-000000000002");

    private static DeliveryImage Image(string filename = "IMG 001.jpg", string mime = "image/jpeg", string? label = "Front desk", params string[] tags) => new(
        ImageId, SessionId, 7, filename, mime, 10, tags, null, label, new DateTimeOffset(2026, 11, 2, 23, 30, 0, TimeSpan.FromHours(-2)),
        _ => Task.FromResult<Stream>(new MemoryStream()), null);

    [Fact]
    public void Render_DefaultS3Template_NamesSessionIndexAndExtension() =>
        PathTemplate.Render("uploads/{session_id}/{image_index}.{ext}", Image())
            .ShouldBe("uploads/3f2a0000-0000-4000-8000-000000000001/7.jpg");

    [Theory]
    [InlineData("{date}/{image_id}.{ext}", "2026-11-03/9b1c0000-0000-4000-8000-000000000002.jpg")]
    [InlineData("{date:yyyy/MM}/{name}.{ext}", "2026/11/IMG 001.jpg")]
    [InlineData("{label}/{filename}", "Front desk/IMG 001.jpg")]
    [InlineData("{tag:shop}/{image_index}.{ext}", "paris-3/7.jpg")]
    [InlineData("{tag:missing}/{image_index}.{ext}", "7.jpg")]
    [InlineData("/leading//double/./{image_index}.{ext}", "leading/double/7.jpg")]
    public void Render_Placeholders_AreSubstitutedAndNormalised(string template, string expected) =>
        PathTemplate.Render(template, Image(tags: ["shop:paris-3", "other"])).ShouldBe(expected);

    [Theory]
    [InlineData("../../etc/passwd", "a/../../x")]
    [InlineData("..", "{label}/{image_index}")]
    [InlineData("a/../b", "{label}/{image_index}")]
    public void Render_ValuesCannotClimbOrAddFolders(string label, string template)
    {
        var path = PathTemplate.Render(template, Image(label: label));

        path.Split('/').ShouldNotContain("..");
        path.ShouldNotStartWith("/");
    }

    [Fact]
    public void Render_LabelWithSlashes_StaysOneSegment() =>
        PathTemplate.Render("{label}/{image_index}", Image(label: "../../etc")).ShouldBe(".._.._etc/7");

    [Fact]
    public void Render_ControlCharacters_AreDropped() =>
        PathTemplate.Render("{label}/{image_index}", Image(label: "a\u0000b\nc")).ShouldBe("abc/7");

    [Fact]
    public void Render_EmptyResult_FallsBackToImageId() =>
        PathTemplate.Render("{label}", Image(label: null)).ShouldBe($"{ImageId:N}.jpg");

    [Theory]
    [InlineData("image/png", "x.bin", "png")]
    [InlineData("image/webp", "x", "webp")]
    [InlineData("image/heic", "x", "heic")]
    [InlineData("application/octet-stream", "scan.tiff", "tiff")]
    public void Extension_ComesFromTheType(string mime, string filename, string expected) =>
        PathTemplate.Extension(Image(filename, mime)).ShouldBe(expected);

    [Theory]
    [InlineData("uploads/{session_id}/{image_index}.{ext}", null)]
    [InlineData("{date:yyyy-MM-dd}/{tag:shop}/{filename}", null)]
    [InlineData("{folder}/{session_id}", null)]
    [InlineData("", "must not be empty")]
    [InlineData("{nope}.{ext}", "unknown placeholder {nope}")]
    [InlineData("{session_id", "never closed")]
    [InlineData("a}b", "no matching")]
    [InlineData("../{image_id}", "must not contain '..'")]
    public void Check_ExplainsWhatIsWrong(string template, string? problem)
    {
        var result = PathTemplate.Check(template, "key_template", ["folder"]);

        if (problem is null)
        {
            result.ShouldBeNull();
        }
        else
        {
            result.ShouldNotBeNull().ShouldContain(problem);
            result.ShouldStartWith("config.key_template");
        }
    }

    [Theory]
    [InlineData("/upload", "a/b.jpg", "/upload/a/b.jpg")]
    [InlineData("upload/", "a/b.jpg", "upload/a/b.jpg")]
    [InlineData("", "a/b.jpg", "a/b.jpg")]
    [InlineData(null, "a/b.jpg", "a/b.jpg")]
    [InlineData("/x/../y", "b.jpg", "/x/y/b.jpg")]
    public void Combine_JoinsRootAndPath(string? root, string relative, string expected) =>
        PathTemplate.Combine(root, relative).ShouldBe(expected);
}
