using Apertur.Server.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>Creates a second project with its own live key, for scoping tests.</summary>
public static class KeysForOtherProject
{
    public static async Task<string> CreateAsync(TestApp app, string projectName = "Other")
    {
        await using var scope = app.Services.CreateAsyncScope();
        var issuer = scope.ServiceProvider.GetRequiredService<KeyIssuer>();
        var project = await issuer.GetOrCreateProjectAsync(projectName, CancellationToken.None);
        var (_, plain) = await issuer.CreateKeyAsync(project.Id, ApiKeyTokens.Live, "other", null, CancellationToken.None);
        return plain;
    }
}
