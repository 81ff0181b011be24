using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.Playwright;
using Shouldly;

namespace Apertur.BrowserTests.Infrastructure;

/// <summary>One phone's browser tab on the upload page, with the few gestures the tests need.</summary>
public sealed class Phone(IBrowserContext context, IPage page) : IAsyncDisposable
{
    private ICDPSession? _cdp;

    public IBrowserContext Context { get; } = context;
    public IPage Page { get; } = page;

    private int _uploadRequests;

    /// <summary>
    /// Every upload request the page started (POST …/images), counted as Playwright reports them: its events reach the test
    /// asynchronously, so poll this (or count on the server) rather than read it right after a change on the page.
    /// </summary>
    public int UploadRequests => Volatile.Read(ref _uploadRequests);

    /// <summary>
    /// Checks that the page sent exactly <paramref name="expected"/> uploads, waiting for Playwright's request events to catch
    /// up with what the page already shows.
    /// </summary>
    public async Task ShouldHaveSentUploadsAsync(int expected)
    {
        await Wait.UntilAsync(() => Task.FromResult(UploadRequests >= expected), TimeSpan.FromSeconds(10), $"{expected} upload requests");
        UploadRequests.ShouldBe(expected);
    }

    public ILocator Tiles => Page.Locator(".tile");

    public ILocator TilesWithStatus(string status) => Page.Locator($".tile[data-status=\"{status}\"]");

    public ILocator Tile(string filename) => Page.Locator(".tile", new() { Has = Page.Locator(".name", new() { HasTextString = filename }) });

    public async Task<IResponse> OpenAsync(string url)
    {
        Page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/images", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _uploadRequests);
            }
        };
        var response = await Page.GotoAsync(url) ?? throw new InvalidOperationException($"no answer for {url}");
        return response;
    }

    /// <summary>Picks files as the gallery button would (the file chooser itself is the phone's, not the page's).</summary>
    public Task ChooseFromGalleryAsync(params string[] fixtures) =>
        Page.Locator("#gallery-input").SetInputFilesAsync(fixtures.Select(Fixture.Path));

    public Task TakePhotoAsync(string fixture) => Page.Locator("#camera-input").SetInputFilesAsync(Fixture.Path(fixture));

    /// <summary>Limits how fast the phone sends (Chromium's network emulation), e.g. to catch an upload half-way.</summary>
    public async Task ThrottleUploadAsync(int bytesPerSecond)
    {
        _cdp ??= await Context.NewCDPSessionAsync(Page);
        await _cdp.SendAsync("Network.enable");
        await _cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false,
            ["latency"] = 0,
            ["downloadThroughput"] = -1,
            ["uploadThroughput"] = bytesPerSecond,
        });
    }

    public async Task UnthrottleAsync()
    {
        if (_cdp is not null)
        {
            await _cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
            {
                ["offline"] = false,
                ["latency"] = 0,
                ["downloadThroughput"] = -1,
                ["uploadThroughput"] = -1,
            });
        }
    }

    /// <summary>Progress of a tile's upload bar, 0–100.</summary>
    public async Task<int> ProgressAsync(string filename) =>
        int.Parse(await Tile(filename).Locator(".bar").GetAttributeAsync("aria-valuenow") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    public async Task ScreenshotAsync(string name)
    {
        var directory = Screenshots.Directory;
        Directory.CreateDirectory(directory);
        // Let transitions (progress bar width) settle before the picture.
        await Page.WaitForTimeoutAsync(300);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png"), Animations = ScreenshotAnimations.Disabled });
    }

    public async ValueTask DisposeAsync()
    {
        if (_cdp is not null)
        {
            await _cdp.DetachAsync();
        }
        await Context.CloseAsync();
    }
}

/// <summary>
/// Where screenshots go: <c>APERTUR_SCREENSHOTS</c> (scripts/screenshots.sh points it at docs/screenshots), otherwise a
/// directory under the test output so an ordinary run never changes the repository.
/// </summary>
public static class Screenshots
{
    public static string Directory { get; } =
        Environment.GetEnvironmentVariable("APERTUR_SCREENSHOTS") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
}
