using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>
/// What a person notices in a real browser beyond whether a page works: errors in the console, a missing icon, chart labels
/// too small to read on a phone, form fields that do not look alike, where sign-in lands.
/// </summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardPolishTests(Chromium chromium)
{
    private static readonly string[] Sections = ["Overview", "Sessions", "Deliveries", "Destinations", "API keys", "Event webhooks", "Settings"];

    [Fact]
    public async Task Pages_OpenedOneAfterAnother_NoConsoleErrorAndNoFailedRequest()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add($"console: {message.Text} ({page.Url})");
            }
        };
        page.RequestFailed += (_, request) => problems.Add($"failed: {request.Url} {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                problems.Add($"{response.Status}: {response.Url}");
            }
        };

        await page.GotoAsync($"{site.Origin}/dashboard/login");
        await site.SignInAsync(page, "admin", DashboardSite.AdminPassword);
        await page.WaitForURLAsync(url => !url.Contains("/dashboard/login", StringComparison.Ordinal), DashboardSite.SignedInUrl);
        foreach (var section in Sections)
        {
            await site.OpenAsync(page, section);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }
        await page.GetByRole(AriaRole.Link, new() { Name = "admin" }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GotoAsync($"{site.Origin}/dashboard?all=true");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        problems.ShouldBeEmpty();
        (await page.Locator("link[rel=icon]").CountAsync()).ShouldBe(1);
        // A browser that asks for /favicon.ico without reading the page gets the same icon.
        var favicon = await page.APIRequest.GetAsync($"{site.Origin}/favicon.ico");
        favicon.Status.ShouldBe(200);
        favicon.Headers["content-type"].ShouldBe("image/svg+xml");
    }

    [Fact]
    public async Task Overview_OnAPhone_ChartLabelsAreAtLeast11Pixels()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        await using var receiver = await TestReceiver.StartAsync();
        var app = site.App;
        var shop = await Seed.DestinationAsync(app, "webhook", "Shop backend with a long name", $$"""{"url":"{{receiver.Url()}}"}""");
        var session = await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{shop}}"]}""");
        (await app.UploadElsewhereAsync(session.GetProperty("uuid").GetString()!, "small.jpg")).ShouldBe(201);
        await Wait.UntilAsync(() => Task.FromResult(receiver.Requests.Count == 1), TimeSpan.FromSeconds(30), "delivered");

        var phone = await site.SignedInPageAsync(phone: true);
        await site.OpenAsync(phone, "Overview");
        var labels = phone.Locator(".chart svg text");
        (await labels.CountAsync()).ShouldBeGreaterThan(10);
        // Rendered size: the computed font size times the drawing's scale to the screen; each label inside its chart.
        var measured = await labels.EvaluateAllAsync<Label[]>("""
            texts => texts.map(t => {
                const box = t.getBoundingClientRect(), chart = t.ownerSVGElement.getBoundingClientRect();
                return { text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
                         inside: box.left >= chart.left - 0.5 && box.right <= chart.right + 0.5 };
            })
            """);
        measured.Where(l => l.Size < 11).ShouldBeEmpty();
        measured.Where(l => !l.Inside).ShouldBeEmpty();
    }

    [Fact]
    public async Task Forms_FieldInsideItsLabelOrAfterIt_ValuesHaveTheSameNormalWeight()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Sessions");
        var insideLabel = await page.Locator("label > input[name=label]").EvaluateAsync<string>("i => getComputedStyle(i).fontWeight");
        await site.OpenAsync(page, "Destinations");
        var afterLabel = await page.Locator(".field > input[name=name]").EvaluateAsync<string>("i => getComputedStyle(i).fontWeight");

        insideLabel.ShouldBe("400");
        afterLabel.ShouldBe("400");
    }

    [Fact]
    public async Task SignIn_OneProjectThenTwo_LandsOnTheProjectThenOnTheList()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.NewPageAsync();
        await site.SignInAsync(page, "admin", DashboardSite.AdminPassword);
        await page.WaitForURLAsync(url => url.Contains("/dashboard/projects/", StringComparison.Ordinal), DashboardSite.SignedInUrl);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Default");

        await page.Locator(".switcher summary").ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "All projects" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Projects");
        await page.GetByLabel("Name").FillAsync("Second shop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Second shop");

        var again = await site.NewPageAsync();
        await site.SignInAsync(again, "admin", DashboardSite.AdminPassword);
        await again.WaitForURLAsync($"{site.Origin}/dashboard");
        await Expect(again.Locator("h1")).ToHaveTextAsync("Projects");
    }

    private sealed record Label
    {
        public string Text { get; init; } = "";
        public double Size { get; init; }
        public bool Inside { get; init; }
    }
}
