using System.Net;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

/// <summary>The project's settings form (owners), saved together: here its retention (docs/operations.md "Retention").</summary>
public sealed class ProjectSettingsTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Retention_BeyondTheServerOrInvalid_RefusedAndNothingSaved_AShorterOneSavedAndShown(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        using var owner = await DashboardBrowser.SignInAsync(app);
        var settings = $"/dashboard/projects/{projectId}/settings";
        (await owner.PageAsync(settings)).ShouldContain("Server: 7 days at most", customMessage: "the server's maximum is shown");

        foreach (var (afterDelivery, maxAge, message) in new[]
                 {
                     ("8", "", "Days after delivery must be a whole number of days from 0 to 7"),
                     ("", "31", "Days after upload must be a whole number of days from 1 to 30"),
                     ("", "0", "Days after upload must be a whole number of days from 1 to 30"),
                     ("2.5", "", "Days after delivery must be a whole number of days from 0 to 7"),
                 })
        {
            using var refused = await owner.PostFormAsync(settings, Form("Renamed", afterDelivery, maxAge), "Project");
            var html = await refused.Content.ReadAsStringAsync();
            refused.StatusCode.ShouldBe(HttpStatusCode.OK, html);
            DashboardBrowser.ErrorOf(html).ShouldNotBeNull().ShouldContain(message);
            var project = await Manage.DbAsync(app, d => d.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId));
            (project.Name, project.ImagesAfterDeliveryMinutes, project.MaxImageAgeMinutes).ShouldBe(("Default", null, null), "nothing saved");
        }

        using (var saved = await owner.PostFormAsync(settings, Form("Renamed", "0", "10"), "Project"))
        {
            saved.StatusCode.ShouldBe(HttpStatusCode.Redirect, await saved.Content.ReadAsStringAsync());
        }
        var stored = await Manage.DbAsync(app, d => d.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId));
        (stored.Name, stored.ImagesAfterDeliveryMinutes, stored.MaxImageAgeMinutes).ShouldBe(("Renamed", 0, 10 * 24 * 60));
        var page = await owner.PageAsync(settings);
        InputValue(page, "imagesAfterDeliveryDays").ShouldBe("0");
        InputValue(page, "maxImageAgeDays").ShouldBe("10");

        using (var cleared = await owner.PostFormAsync(settings, Form("Renamed", "", ""), "Project"))
        {
            cleared.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        stored = await Manage.DbAsync(app, d => d.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId));
        (stored.ImagesAfterDeliveryMinutes, stored.MaxImageAgeMinutes).ShouldBe((null, null), "empty: the server's again");
    }

    private static Dictionary<string, string> Form(string name, string imagesAfterDeliveryDays, string maxImageAgeDays) => new()
    {
        ["name"] = name,
        ["imagesAfterDeliveryDays"] = imagesAfterDeliveryDays,
        ["maxImageAgeDays"] = maxImageAgeDays,
    };

    private static string? InputValue(string html, string name) =>
        Regex.Match(html, $"<input name=\"{name}\"[^>]*?value=\"(?<value>[^\"]*)\"") is { Success: true } m ? m.Groups["value"].Value : null;
}
