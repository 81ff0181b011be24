using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;

namespace Apertur.BrowserTests.Infrastructure;

/// <summary>What the business side does around the page, through the public API with the live key.</summary>
public static class Api
{
    public static async Task<(string Uuid, string UploadUrl)> NewSessionAsync(this TestApp app, string? json = null)
    {
        var session = await app.Client.CreateSessionAsync(json ?? "{}");
        return (session.GetProperty("uuid").GetString()!, session.GetProperty("upload_url").GetString()!);
    }

    /// <summary>The project's stored uploads, newest first (GET /api/v1/uploads).</summary>
    public static async Task<List<JsonElement>> UploadsAsync(this TestApp app)
    {
        using var response = await app.Client.GetAsync("/api/v1/uploads?pageSize=100");
        response.EnsureSuccessStatusCode();
        return (await response.ReadJsonAsync()).GetProperty("data").EnumerateArray().ToList();
    }

    public static async Task<byte[]> DownloadAsync(this TestApp app, string imageId)
    {
        using var response = await app.Client.GetAsync($"/api/v1/uploads/{imageId}/download");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Uploads one file as an SDK would (another phone, another app), straight to the public endpoint.</summary>
    public static async Task<int> UploadElsewhereAsync(this TestApp app, string uuid, string fixture)
    {
        using var anonymous = app.CreateClient();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Fixture.Bytes(fixture));
        file.Headers.ContentType = new("image/jpeg");
        form.Add(file, "file", fixture);
        using var response = await anonymous.PostAsync($"/api/v1/upload/{uuid}/images", form);
        return (int)response.StatusCode;
    }
}
