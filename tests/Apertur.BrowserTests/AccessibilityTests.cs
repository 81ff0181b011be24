using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests;

/// <summary>Labels, focus order, contrast, and a 360 px wide screen used with one thumb.</summary>
[Collection(OneBrowser.Name)]
public sealed class AccessibilityTests(Chromium chromium)
{
    // WCAG 2 contrast of an element's text colour against the first opaque background behind it.
    private const string ContrastScript = """
        (selector) => {
          const parse = (c) => c.match(/[\d.]+/g).map(Number);
          const lum = ([r, g, b]) => {
            const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const el = document.querySelector(selector);
          let bg = null;
          for (let n = el; n && !bg; n = n.parentElement) {
            const c = parse(getComputedStyle(n).backgroundColor);
            if (c.length < 4 || c[3] === 1) { if (!(c.length === 4 && c[3] === 0)) bg = c; }
          }
          const fg = parse(getComputedStyle(el).color);
          const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05);
        }
        """;

    private static readonly string[] TextSelectors =
        ["h1", ".intro", "#counter", "#take", "#pick", ".hint", ".foot", ".brand",
         ".tile[data-status=\"done\"] .state", ".tile[data-status=\"refused\"] .state", ".tile .name",
         ".tile[data-retrying=\"true\"] .state", ".tile[data-retrying=\"true\"] .detail", ".tile .retry"];

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task Page_EveryText_HasAtLeast4Point5ToOneContrast(string scheme)
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync($"{url}?colorScheme={scheme}");
        await phone.ChooseFromGalleryAsync("small.jpg", "pdf-named.jpg");
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
        await phone.Page.RouteAsync("**/images", route => route.AbortAsync());
        await phone.ChooseFromGalleryAsync("photo.webp");
        await Expect(phone.Page.Locator(".tile[data-retrying=\"true\"]")).ToHaveCountAsync(1);

        foreach (var selector in TextSelectors)
        {
            var ratio = await phone.Page.EvaluateAsync<double>(ContrastScript, selector);
            ratio.ShouldBeGreaterThanOrEqualTo(4.5, $"{selector} in {scheme}");
        }
    }

    [Fact]
    public async Task Page_Controls_HaveNamesAndAFocusOrderThatFollowsTheScreen()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync();
        await phone.OpenAsync(url);

        await Expect(phone.Page.GetByRole(AriaRole.Button, new() { Name = "Take photo" })).ToBeVisibleAsync();
        await Expect(phone.Page.GetByRole(AriaRole.Button, new() { Name = "Choose from gallery" })).ToBeVisibleAsync();
        await Expect(phone.Page.GetByRole(AriaRole.Heading, new() { Name = "Send photos", Level = 1 })).ToBeVisibleAsync();
        await phone.Page.Keyboard.PressAsync("Tab");
        await Expect(phone.Page.Locator("#take")).ToBeFocusedAsync();
        await phone.Page.Keyboard.PressAsync("Tab");
        await Expect(phone.Page.Locator("#pick")).ToBeFocusedAsync();

        await phone.ChooseFromGalleryAsync("screenshot.png");
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);
        await Expect(phone.Page.GetByRole(AriaRole.Progressbar, new() { Name = "Upload of screenshot.png" })).ToHaveAttributeAsync("aria-valuenow", "100");

        await phone.Page.RouteAsync("**/images", route => route.AbortAsync());
        await phone.ChooseFromGalleryAsync("small.jpg");
        var retry = phone.Page.GetByRole(AriaRole.Button, new() { Name = "Retry: small.jpg" });
        await Expect(retry).ToBeVisibleAsync();
        await phone.Page.Keyboard.PressAsync("Tab");
        await Expect(retry).ToBeFocusedAsync();
    }

    [Fact]
    public async Task Page_360PixelsWide_FitsWithoutSideScrollAndHasThumbSizedTargets()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite, kestrel: true);
        var (_, url) = await app.NewSessionAsync();
        await using var phone = await chromium.NewPhoneAsync(width: 360, height: 640, locale: "fr-FR");
        await phone.OpenAsync(url);
        await phone.ChooseFromGalleryAsync("phone-photo.jpg", "pdf-named.jpg");
        await Expect(phone.TilesWithStatus("done")).ToHaveCountAsync(1);

        (await phone.Page.EvaluateAsync<int>("document.documentElement.scrollWidth")).ShouldBeLessThanOrEqualTo(360);
        foreach (var selector in new[] { "#take", "#pick", ".tile button.remove:visible" })
        {
            var box = (await phone.Page.Locator(selector).BoundingBoxAsync())!;
            box.Height.ShouldBeGreaterThanOrEqualTo(44, selector);
            box.Width.ShouldBeGreaterThanOrEqualTo(44, selector);
            (box.X + box.Width).ShouldBeLessThanOrEqualTo(360, selector);
        }
        // Both actions are on the first screen, no scrolling needed to reach them.
        var pick = (await phone.Page.Locator("#pick").BoundingBoxAsync())!;
        (pick.Y + pick.Height).ShouldBeLessThanOrEqualTo(640);
    }
}
