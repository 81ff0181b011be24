using System.Net;
using System.Net.Http.Headers;
using System.Xml.Linq;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Qr;

public sealed class QrApiTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static async Task<(HttpClient Anonymous, string Uuid, string UploadUrl)> NewSessionAsync(TestApp app)
    {
        var s = await app.Client.CreateSessionAsync();
        return (app.CreateClient(), s.GetProperty("uuid").GetString()!, s.GetProperty("upload_url").GetString()!);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Png_Default_DecodesToUploadUrlWithoutAuth(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, uploadUrl) = await NewSessionAsync(app);
        using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
        response.Headers.CacheControl!.Public.ShouldBeTrue();
        response.Headers.CacheControl.MaxAge.ShouldBe(TimeSpan.FromSeconds(300));
        var png = await response.Content.ReadAsByteArrayAsync();
        PngImage.ReadSize(png).ShouldBe((300, 300));
        (await Zbar.DecodeAsync(png)).ShouldBe(uploadUrl);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Png_SizeColourBorderAndStyleVariations_StillDecode(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, uploadUrl) = await NewSessionAsync(app);
        foreach (var (query, size) in new[]
        {
            ("size=64", 64),
            ("size=2048", 2048),
            ("size=401&fg=%23336699&bg=fffff0", 401),
            ("fg=abc&bg=%23FFF", 300),
            ("borderSize=0", 300),
            ("size=400&borderSize=40&borderColor=ff0000", 400),
            ("style=rounded", 300),
            ("style=rounded&size=520&fg=1a237e&bg=e8eaf6&borderSize=16&borderColor=%231a237e", 520),
            ("style=ROUNDED&size=64&borderSize=2", 64),
        })
        {
            using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?{query}");
            response.StatusCode.ShouldBe(HttpStatusCode.OK, query);
            var png = await response.Content.ReadAsByteArrayAsync();
            PngImage.ReadSize(png).ShouldBe((size, size), query);
            (await Zbar.DecodeAsync(png)).ShouldBe(uploadUrl, query);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Png_Colours_AreDrawnWhereExpected(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, _) = await NewSessionAsync(app);
        using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?size=300&fg=%23c00&bg=%23fffff0&borderSize=10&borderColor=%2300ff00");
        var image = PngImage.Decode(await response.Content.ReadAsByteArrayAsync());

        image.Pixel(0, 0).ShouldBe("00ff00");
        image.Pixel(9, 150).ShouldBe("00ff00");
        image.Pixel(10, 10).ShouldBe("fffff0");
        // The centre of the image lies in the symbol; the top-left finder pattern's outer ring is dark.
        var firstDark = Enumerable.Range(10, 140).First(x => image.Pixel(x, x) != "fffff0");
        image.Pixel(firstDark, firstDark).ShouldBe("cc0000");
        // Along the diagonal the finder's outer ring is one module thick: the quiet zone inside the border is 4 modules or more.
        var module = Enumerable.Range(firstDark, 100).TakeWhile(x => image.Pixel(x, x) == "cc0000").Count();
        (firstDark - 10).ShouldBeGreaterThanOrEqualTo(4 * module);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Svg_IsWellFormedWithRequestedColours(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, _) = await NewSessionAsync(app);
        foreach (var style in new[] { "square", "rounded" })
        {
            using var response = await anonymous.GetAsync(
                $"/api/v1/upload-sessions/{uuid}/qr?format=svg&style={style}&size=256&fg=%23112233&bg=abc&borderSize=8&borderColor=445566");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/svg+xml");
            response.Headers.CacheControl!.ToString().ShouldBe("public, max-age=300");

            var svg = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
            svg.Name.ShouldBe(Svg + "svg");
            svg.Attribute("viewBox")!.Value.ShouldBe("0 0 256 256");
            svg.Attribute("width")!.Value.ShouldBe("256");
            var rects = svg.Elements(Svg + "rect").ToList();
            rects.Select(r => r.Attribute("fill")!.Value).ShouldBe(["#445566", "#aabbcc"]);
            rects[1].Attribute("x")!.Value.ShouldBe("8");
            var path = svg.Elements(Svg + "path").Single();
            path.Attribute("fill")!.Value.ShouldBe("#112233");
            path.Attribute("d")!.Value.Contains('A', StringComparison.Ordinal).ShouldBe(style == "rounded");
            svg.Descendants().Select(e => e.Name.LocalName).Distinct().ShouldBe(["rect", "path"], ignoreOrder: true);
            svg.DescendantsAndSelf().SelectMany(e => e.Attributes()).ShouldNotContain(a => a.Name.LocalName == "href" || a.Name.LocalName.StartsWith("on"));
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Svg_Rasterised_DecodesToUploadUrl(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, uploadUrl) = await NewSessionAsync(app);
        foreach (var query in new[] { "format=svg", "format=svg&style=rounded&fg=1a237e&borderSize=20&borderColor=1a237e&size=500" })
        {
            var svg = await anonymous.GetStringAsync($"/api/v1/upload-sessions/{uuid}/qr?{query}");
            (await Zbar.DecodeSvgAsync(svg)).ShouldBe(uploadUrl, query);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_WithAcceptJsonAndAnyAuthorization_AnswersTheImage(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (_, uuid, uploadUrl) = await NewSessionAsync(app);
        foreach (var client in new[] { app.Client, app.CreateClient("aptr_live_" + new string('x', 32)), app.CreateClient() })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/qr");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await client.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
            (await Zbar.DecodeAsync(await response.Content.ReadAsByteArrayAsync())).ShouldBe(uploadUrl);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_AdvertisedSpecs_AreWhatIsServed(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var s = await app.Client.CreateSessionAsync();
        var specs = s.GetProperty("qr_specs");
        using var anonymous = app.CreateClient();
        var explicitQuery = string.Join("&", specs.GetProperty("params").EnumerateObject().Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value.GetString()!)}"));
        var withDefaults = await anonymous.GetByteArrayAsync(specs.GetProperty("endpoint").GetString());
        var withExplicit = await anonymous.GetByteArrayAsync($"{specs.GetProperty("endpoint").GetString()}?{explicitQuery}");
        withExplicit.ShouldBe(withDefaults);
        foreach (var format in specs.GetProperty("formats").EnumerateArray().Select(f => f.GetString()))
        {
            using var response = await anonymous.GetAsync($"{s.GetProperty("qr_url").GetString()}?format={format}");
            response.StatusCode.ShouldBe(HttpStatusCode.OK, format);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_InvalidParameters_Answer400WithContractBody(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, _) = await NewSessionAsync(app);
        anonymous.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var query in new[]
        {
            "size=63", "size=2049", "size=abc", "size=300.5", "size=-300", "size= 300",
            "borderSize=-1", "borderSize=257", "borderSize=4px",
            "fg=12345", "fg=ggg", "bg=%2312", "borderColor=red", "fg=%23%23000000",
            "style=dots", "style=square,rounded",
            "size=64&borderSize=20", "size=300&borderSize=140",
        })
        {
            using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?{query}");
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json", query);
            (response.Headers.CacheControl?.Public ?? false).ShouldBeFalse(query);
            (await response.ReadErrorCodeAsync()).ShouldBe("INVALID_QR_PARAMETER", query);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_OtherFormat_Answers400UnsupportedFormat(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, _) = await NewSessionAsync(app);
        foreach (var format in new[] { "gif", "webp", "bmp" })
        {
            using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?format={format}");
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, format);
            var body = await response.ReadJsonAsync();
            body.GetProperty("code").GetString().ShouldBe("UNSUPPORTED_QR_FORMAT");
            body.GetProperty("message").GetString()!.ShouldContain("png, svg or jpeg");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Jpeg_DecodesToUploadUrl_AtTheAskedSize(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (anonymous, uuid, uploadUrl) = await NewSessionAsync(app);
        foreach (var (query, size) in new[]
        {
            ("format=jpeg", 300),
            ("format=jpg&size=64", 64),
            ("format=JPEG&size=800&style=rounded&fg=1a237e&bg=e8eaf6&borderSize=16&borderColor=%231a237e", 800),
        })
        {
            using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?{query}");
            response.StatusCode.ShouldBe(HttpStatusCode.OK, query);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg", query);
            response.Headers.CacheControl!.Public.ShouldBeTrue();
            var jpeg = await response.Content.ReadAsByteArrayAsync();
            // Read by MetadataExtractor (not the library that wrote it): a baseline JPEG of the asked size, and no EXIF.
            var directories = MetadataExtractor.ImageMetadataReader.ReadMetadata(new MemoryStream(jpeg));
            var header = directories.OfType<MetadataExtractor.Formats.Jpeg.JpegDirectory>().Single();
            (header.GetImageWidth(), header.GetImageHeight()).ShouldBe((size, size), query);
            directories.OfType<MetadataExtractor.Formats.Exif.ExifIfd0Directory>().ShouldBeEmpty(query);
            (await Zbar.DecodeAsync(jpeg, ".jpg")).ShouldBe(uploadUrl, query);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_UnknownSession_Answers404(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        foreach (var id in new[] { Guid.CreateVersion7().ToString(), "not-a-uuid" })
        {
            using var response = await anonymous.GetAsync($"/api/v1/upload-sessions/{id}/qr");
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, id);
            (await response.ReadErrorCodeAsync()).ShouldBe("SESSION_NOT_FOUND");
        }
    }
}
