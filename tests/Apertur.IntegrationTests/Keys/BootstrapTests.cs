using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Keys;

public sealed class BootstrapTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Start_WithConfiguredKeys_SeedsExactlyThoseKeysHashed(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await using var scope = app.Services.CreateAsyncScope();
        var data = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var project = await data.Projects.SingleAsync();
        project.Name.ShouldBe("Default");
        app.Services.GetRequiredService<WebhookSecretsAtRest>().Reveal(project.ProtectedWebhookSecret.ShouldNotBeNull()).ShouldStartWith("whsec_");
        var keys = await data.ApiKeys.ToListAsync();
        keys.Select(k => k.Env).Order().ShouldBe(["live", "test"]);
        keys.ShouldAllBe(k => k.KeyHash.Length == 32);
        keys.Single(k => k.Env == "live").Prefix.ShouldBe(app.LiveKey[..14]);
        // Nothing stores the plain key.
        (await data.ApiKeys.AnyAsync(k => k.Label.Contains(app.LiveKey))).ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Healthz_AfterStart_Answers200(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        (await anonymous.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task InactiveKey_Answers401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var data = scope.ServiceProvider.GetRequiredService<AperturDb>();
            await data.ApiKeys.Where(k => k.Env == "live").ExecuteUpdateAsync(s => s.SetProperty(k => k.IsActive, false));
        }
        using var response = await app.Client.GetAsync("/api/v1/sessions");
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
