using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>Signed download links (docs/api.md "Download links"): public, by signature, until they expire.</summary>
public sealed class DownloadLinkTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Download_ValidLink_ServesTheBytesAsAnAttachment_TamperedOrExpired_403(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var sessionId = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var bytes = Fixture.Bytes("small.jpg");
        var imageId = await Seed.ImageAsync(app, sessionId, bytes, "holiday.jpg");
        var links = app.Services.GetRequiredService<DownloadLinks>();
        var link = links.For(imageId);
        using var anonymous = app.CreateClient();

        using var ok = await anonymous.GetAsync(link.PathAndQuery);
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ok.Content.ReadAsByteArrayAsync()).ShouldBe(bytes);
        ok.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
        ok.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        ok.Content.Headers.ContentDisposition.FileName.ShouldBe("holiday.jpg");
        ok.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);

        var query = System.Web.HttpUtility.ParseQueryString(link.Query);
        var expires = long.Parse(query["expires"]!, System.Globalization.CultureInfo.InvariantCulture);
        var sig = query["sig"]!;
        var flipped = (sig[0] == 'a' ? "b" : "a") + sig[1..];
        var otherImage = await Seed.ImageAsync(app, sessionId, [9, 9]);
        foreach (var tampered in new[]
        {
            $"/api/v1/images/{imageId}/download?expires={expires}&sig={flipped}",
            $"/api/v1/images/{imageId}/download?expires={expires + 3600}&sig={sig}",
            $"/api/v1/images/{otherImage}/download?expires={expires}&sig={sig}",
            $"/api/v1/images/{imageId}/download?expires={expires}",
            $"/api/v1/images/{imageId}/download?expires=soon&sig={sig}",
            $"/api/v1/images/not-an-id/download?expires={expires}&sig={sig}",
        })
        {
            using var refused = await anonymous.GetAsync(tampered);
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden, tampered);
            (await refused.ReadErrorCodeAsync()).ShouldBe("DOWNLOAD_LINK_INVALID");
        }

        clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        using var expired = await anonymous.GetAsync(link.PathAndQuery);
        expired.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await expired.ReadErrorCodeAsync()).ShouldBe("DOWNLOAD_LINK_EXPIRED");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Download_LinkFromAnotherServerOnTheSameMasterKey_Accepted(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var sessionId = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var imageId = await Seed.ImageAsync(app, sessionId, [1, 2, 3]);
        var link = app.Services.GetRequiredService<DownloadLinks>().For(imageId);

        await using var replica = await app.StartAnotherAsync();
        using var anonymous = replica.CreateClient();
        using var ok = await anonymous.GetAsync(link.PathAndQuery);
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
