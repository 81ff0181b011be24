using Apertur.BrowserTests.Infrastructure;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Apertur.BrowserTests.Dashboard;

/// <summary>Running a project from the browser: projects, settings and event webhooks, against the real server.</summary>
[Collection(OneBrowser.Name)]
public sealed class DashboardManageTests(Chromium chromium)
{
    [Fact]
    public async Task EventWebhooks_CreatedTestedThenAFailedEventRetried_ShowsEachDelivery()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        await using var receiver = await TestReceiver.StartAsync();
        var accept = false;
        receiver.Respond = (http, _) =>
        {
            http.Response.StatusCode = accept ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
            return http.Response.WriteAsync(accept ? "ok" : "down for maintenance");
        };
        var page = await site.SignedInPageAsync();
        await site.OpenAsync(page, "Event webhooks");
        await Expect(page.Locator(".empty")).ToContainTextAsync("No event webhooks yet");

        await page.GetByLabel("URL").FillAsync(receiver.Url().AbsoluteUri);
        await page.GetByLabel("project.upload.completed").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create event webhook" }).ClickAsync();

        // Its page: the secret is hidden until revealed.
        await Expect(page.Locator("h1")).ToHaveTextAsync("Event webhook");
        await Expect(page.Locator("#whsecret")).ToBeHiddenAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal" }).ClickAsync();
        await Expect(page.Locator("#whsecret")).ToBeVisibleAsync();
        (await page.Locator("#whsecret").TextContentAsync() ?? "").Length.ShouldBeGreaterThan(20);

        // The test send answers in place on the list, and the receiver really got it.
        await site.OpenAsync(page, "Event webhooks");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send test" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Test event failed");
        receiver.Requests.Count.ShouldBe(1);

        // A real event fails (500), is shown with its answer, and is retried by hand once the receiver is back.
        var session = await site.App.Client.CreateSessionAsync();
        (await site.App.UploadElsewhereAsync(session.GetProperty("uuid").GetString()!, "small.jpg")).ShouldBe(201);
        await receiver.WaitForAsync(2);
        await page.Locator("tbody a").First.ClickAsync();
        var row = page.Locator("tbody tr", new() { HasText = "project.upload.completed" });
        await Expect(row).ToContainTextAsync("500");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("retrying");

        accept = true;
        await row.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("re-queued");
        await receiver.WaitForAsync(3);
        await Wait.UntilAsync(async () =>
        {
            await page.ReloadAsync();
            return await row.Locator(".badge").TextContentAsync() == "sent";
        }, TimeSpan.FromSeconds(20), "the retried event sent");
        await Expect(row).ToContainTextAsync("200");
    }

    [Fact]
    public async Task Projects_CreatedThenRenamedAndConfigured_KeepTheirSettings()
    {
        await using var site = await DashboardSite.StartAsync(chromium);
        var page = await site.SignedInPageAsync();
        // The only project opened after sign-in; new projects are made on the list.
        await page.GotoAsync($"{site.Origin}/dashboard?all=true");
        await page.GetByLabel("Name").FillAsync("Second shop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await page.GotoAsync($"{site.Origin}/dashboard");
        await page.GetByRole(AriaRole.Link, new() { Name = "Second shop" }).ClickAsync();
        await Expect(page.Locator(".empty, .card").First).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Project" }).GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Second shop (Lyon)");
        await page.GetByLabel("Retry window (hours)").FillAsync("12");
        await page.GetByLabel("Max images").FillAsync("25");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToBeVisibleAsync();

        await page.ReloadAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("Second shop (Lyon)");
        await Expect(page.GetByLabel("Retry window (hours)")).ToHaveValueAsync("12");
        await Expect(page.GetByLabel("Max images")).ToHaveValueAsync("25");

        // The webhook secret: revealed, then rotated to a new one.
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal" }).ClickAsync();
        var before = await page.Locator("#webhook-secret").TextContentAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal" }).ClickAsync();
        var after = await page.Locator("#webhook-secret").TextContentAsync();
        after.ShouldStartWith("whsec_");
        after.ShouldNotBe(before);

        await page.GotoAsync($"{site.Origin}/dashboard");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Second shop (Lyon)" })).ToHaveCountAsync(1);
    }
}
