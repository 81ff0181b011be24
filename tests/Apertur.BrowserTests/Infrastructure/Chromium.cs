using Microsoft.Playwright;

namespace Apertur.BrowserTests.Infrastructure;

/// <summary>
/// One headless Chromium for the whole run: Debian's /usr/bin/chromium (installed by <c>scripts/services.sh start browser</c>),
/// driven by Microsoft.Playwright, which never downloads a browser of its own. Each test opens fresh phones on it.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var path = Environment.GetEnvironmentVariable("APERTUR_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: run scripts/services.sh start browser.");
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = path, Headless = true, Args = Args });
        // The machine is small and shared: give the page time rather than fail on a slow moment.
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <summary>A phone: 390×844 CSS pixels, touch, mobile viewport rules, a phone's user agent; light and English unless asked.</summary>
    public async Task<Phone> NewPhoneAsync(string locale = "en-US", ColorScheme scheme = ColorScheme.Light, int width = 390, int height = 844,
        float scale = 1)
    {
        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height },
            DeviceScaleFactor = scale,
            IsMobile = true,
            HasTouch = true,
            Locale = locale,
            ColorScheme = scheme,
            UserAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        return new Phone(context, page);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>Browser tests share one Chromium and run one after another: their timings must not fight over two cores.</summary>
[CollectionDefinition(Name)]
public sealed class OneBrowser : ICollectionFixture<Chromium>
{
    public const string Name = "browser";
}
