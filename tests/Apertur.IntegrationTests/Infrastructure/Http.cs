using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>Small helpers that read answers the way the SDKs do: as raw JSON, property names exact.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>Creates a session with the given JSON body (or none) and returns the answer's JSON.</summary>
    public static async Task<JsonElement> CreateSessionAsync(this HttpClient client, string? json = null)
    {
        using var response = await client.PostAsync("/api/v1/upload-sessions", json is null ? null : Json(json));
        var body = await response.ReadJsonAsync();
        if ((int)response.StatusCode != 201)
        {
            throw new InvalidOperationException($"create session answered {(int)response.StatusCode}: {body}");
        }
        return body;
    }

    /// <summary>Asserts the error shape of docs/api.md "Errors" and returns the code.</summary>
    public static async Task<string> ReadErrorCodeAsync(this HttpResponseMessage response)
    {
        var body = await response.ReadJsonAsync();
        if (body.ValueKind != JsonValueKind.Object
            || body.GetProperty("message").ValueKind != JsonValueKind.String
            || body.GetProperty("code").ValueKind != JsonValueKind.String)
        {
            throw new InvalidOperationException($"not a contract error body: {body}");
        }
        return body.GetProperty("code").GetString()!;
    }

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string url, string json) =>
        client.PatchAsync(url, Json(json));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object value) =>
        client.PostAsJsonAsync(url, value);
}
