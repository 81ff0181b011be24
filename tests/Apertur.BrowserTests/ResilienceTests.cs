using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>A bad mobile connection must not lose a photo: uploads that fail are retried until they land.</summary>
[Collection(OneBrowser.Name)]
public sealed class ResilienceTests(Chromium chromium)
{
    [Fact]
    public async Task Upload_ServerGoesAwayMidUpload_ResumesWhenItComesBack()
    {
        var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true, settings: new Dictionary<string, string?>
        {
            // A stopping server waits this long for requests in flight, then cuts them: the upload is interrupted, not finished.
            ["shutdownTimeoutSeconds"] = "1",
        });
        TestApp? restarted = null;
        try
        {
            var (_, url) = await app.NewSessionAsync();
            await using var phone = await chromium.NewPhoneAsync();
            await phone.OpenAsync(url);
            await phone.ThrottleUploadAsync(60_000);

            await phone.ChooseFromGalleryAsync("phone-photo.jpg");
            var tile = phone.Tile("phone-photo.jpg");
            await Wait.UntilAsync(async () => await phone.ProgressAsync("phone-photo.jpg") is > 5 and < 80, TimeSpan.FromSeconds(20), "the upload under way");

            restarted = await app.RestartAsync(whileDown: async () =>
            {
                // While the server is away the photo is kept, marked failed, and retried on its own.
                await Expect(tile).ToHaveAttributeAsync("data-status", "failed");
                await Expect(tile).ToHaveAttributeAsync("data-retrying", "true");
                await Expect(tile.Locator(".state")).ToHaveTextAsync("No connection to the server");
                await Expect(tile.Locator("button.retry")).ToBeVisibleAsync();
                await phone.UnthrottleAsync();
                // It keeps trying (and failing) while the port is closed.
                await Wait.UntilAsync(() => Task.FromResult(phone.UploadRequests >= 2), TimeSpan.FromSeconds(15), "a retry while down");
            });

            await Expect(tile).ToHaveAttributeAsync("data-status", "done", new() { Timeout = 45_000 });
            var stored = (await restarted.UploadsAsync()).ShouldHaveSingleItem();
            (await restarted.DownloadAsync(stored.GetProperty("id").GetString()!)).ShouldBe(Fixture.Bytes("phone-photo.jpg"));
        }
        finally
        {
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Upload_ServerCommitsButTheAnswerIsLost_StoresThePhotoOnce()
    {
        // The server stores the first upload for good, then its connection drops before a byte of the 201 leaves.
        var cut = new AnswerCutter();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true, services: s => s.AddSingleton<IStartupFilter>(cut));
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.ChooseFromGalleryAsync("phone-photo.jpg");
        var tile = phone.Tile("phone-photo.jpg");

        // The page saw a network error and sends the photo again; the server knows it by its key.
        await Expect(tile).ToHaveAttributeAsync("data-status", "done", new() { Timeout = 20_000 });
        cut.Cuts.ShouldBe(1);
        // Counted by the server: the browser's request events reach the test asynchronously, possibly after the tile changed.
        cut.Uploads.ShouldBeGreaterThanOrEqualTo(2);
        var stored = (await app.UploadsAsync()).ShouldHaveSingleItem();
        (await app.DownloadAsync(stored.GetProperty("id").GetString()!)).ShouldBe(Fixture.Bytes("phone-photo.jpg"));
    }

    /// <summary>Aborts the connection of the first upload answered 201: the commit is done, the answer never leaves.</summary>
    private sealed class AnswerCutter : IStartupFilter
    {
        private int _cuts;
        private int _uploads;

        public int Cuts => Volatile.Read(ref _cuts);

        /// <summary>Upload requests that reached the server.</summary>
        public int Uploads => Volatile.Read(ref _uploads);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Value!.EndsWith("/images", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _uploads);
                    context.Response.OnStarting(() =>
                    {
                        if (context.Response.StatusCode == StatusCodes.Status201Created && Interlocked.CompareExchange(ref _cuts, 1, 0) == 0)
                        {
                            context.Abort();
                        }
                        return Task.CompletedTask;
                    });
                }
                await nextMiddleware(context);
            });
            next(app);
        };
    }

    [Fact]
    public async Task Upload_PhoneOffline_WaitsAndSendsWhenTheConnectionReturns()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await phone.Context.SetOfflineAsync(true);
        await Expect(phone.Page.Locator("#offline")).ToBeVisibleAsync();
        await phone.ChooseFromGalleryAsync("small.jpg");
        var tile = phone.Tile("small.jpg");
        await Expect(tile).ToHaveAttributeAsync("data-retrying", "true");
        await Expect(tile.Locator(".detail")).ToHaveTextAsync("Will send when you are back online");
        var tried = phone.UploadRequests;
        // Offline, the page does not keep hammering.
        await phone.Page.WaitForTimeoutAsync(2500);
        phone.UploadRequests.ShouldBe(tried);

        await phone.Context.SetOfflineAsync(false);

        await Expect(tile).ToHaveAttributeAsync("data-status", "done", new() { Timeout = 5000 });
        await Expect(phone.Page.Locator("#offline")).ToBeHiddenAsync();
        (await app.UploadsAsync()).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Upload_FailedUpload_CanBeRetriedByATap()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);
        // A proxy answers 503 (a deploy under way) until the test opens the way.
        var refusals = 0;
        var open = false;
        await phone.Page.RouteAsync("**/images", async route =>
        {
            if (Volatile.Read(ref open))
            {
                await route.ContinueAsync();
                return;
            }
            Interlocked.Increment(ref refusals);
            await route.FulfillAsync(new() { Status = 503, ContentType = "text/html", Body = "<h1>Service Unavailable</h1>" });
        });

        await phone.ChooseFromGalleryAsync("small.jpg");
        var tile = phone.Tile("small.jpg");
        await Expect(tile.Locator(".state")).ToHaveTextAsync("The server is not answering (503)");
        // Retried on its own after 1, 2 and 4 s; the next automatic try is 8 s (±20 %) away.
        await Wait.UntilAsync(() => Task.FromResult(Volatile.Read(ref refusals) >= 4), TimeSpan.FromSeconds(20), "three automatic retries");
        await Expect(tile).ToHaveAttributeAsync("data-retrying", "true");
        Volatile.Write(ref open, true);
        await tile.Locator("button.retry").TapAsync();

        // Far sooner than the backoff: the tap sent it.
        await Expect(tile).ToHaveAttributeAsync("data-status", "done", new() { Timeout = 3000 });
        refusals.ShouldBe(4);
        (await app.UploadsAsync()).Count.ShouldBe(1);
    }
}
