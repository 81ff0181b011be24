using System.Net;
using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>Helpers for the project-management endpoints: the caller's project id, destinations, key ids.</summary>
public static class Manage
{
    public static async Task<string> ProjectIdAsync(this HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/project");
        response.EnsureSuccessStatusCode();
        return (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
    }

    /// <summary>Creates a destination in the caller's project and returns the answer (asserting 201).</summary>
    public static async Task<JsonElement> CreateDestinationAsync(this HttpClient client, string json)
    {
        var projectId = await client.ProjectIdAsync();
        using var response = await client.PostAsync($"/api/v1/projects/{projectId}/destinations", Http.Json(json));
        var body = await response.ReadJsonAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"create destination answered {(int)response.StatusCode}: {body}");
        }
        return body;
    }

    /// <summary>The id of the key stored for a plain key.</summary>
    public static async Task<Guid> KeyIdAsync(TestApp app, string plainKey)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var hash = ApiKeyTokens.Hash(plainKey);
        return await db.ApiKeys.Where(k => k.KeyHash == hash).Select(k => k.Id).SingleAsync();
    }

    /// <summary>Runs something against the app's database in a scope of its own.</summary>
    public static async Task<T> DbAsync<T>(TestApp app, Func<AperturDb, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<AperturDb>());
    }

    public static string[] PropertyNames(this JsonElement element) => element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
}
