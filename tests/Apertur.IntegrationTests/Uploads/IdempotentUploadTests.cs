using System.Net;
using System.Net.Http.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Uploads;

/// <summary>The Idempotency-Key header of uploads: a retry after a lost answer gets that answer, never a second image.</summary>
public sealed class IdempotentUploadTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_SameKeySameBytes_AnswersTheFirst201AndStoresAndDeliversOnce(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (hook, bucket) = await UploadsApiTests.AddDestinationsAsync(app);
        var session = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}","{{bucket}}"],"max_images":2}""")).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");

        using var first = await UploadAsync(anonymous, session, UploadClient.Multipart(jpeg), "photo-1");
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        first.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        var answer = await first.Content.ReadAsStringAsync();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            using var again = await UploadAsync(anonymous, session, UploadClient.Multipart(jpeg), "photo-1");
            again.StatusCode.ShouldBe(HttpStatusCode.Created);
            (await again.Content.ReadAsStringAsync()).ShouldBe(answer);
            again.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }
        (await CountsAsync(app, session)).ShouldBe((Images: 1, Deliveries: 2, ImageCount: 1));
        app.TempFiles().ShouldBeEmpty();
        StoredFiles(app).ShouldBe(1);

        // The replays took no place: the second photo fills the session, and the first key still answers once it is full.
        using var second = await UploadAsync(anonymous, session, UploadClient.Multipart(Fixture.Bytes("screenshot.png"), "shot.png"), "photo-2");
        second.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await second.ReadJsonAsync()).GetProperty("image_index").GetInt32().ShouldBe(1);
        using var afterFull = await UploadAsync(anonymous, session, UploadClient.Multipart(jpeg), "photo-1");
        afterFull.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await afterFull.Content.ReadAsStringAsync()).ShouldBe(answer);
        using var newKey = await UploadAsync(anonymous, session, UploadClient.Multipart(jpeg), "photo-3");
        (await newKey.ReadErrorCodeAsync()).ShouldBe("SESSION_FULL");
        (await CountsAsync(app, session)).ShouldBe((Images: 2, Deliveries: 4, ImageCount: 2));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_WithoutKey_StoresEachUploadAsBefore(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");
        using var first = await anonymous.UploadAsync(session, jpeg);
        using var second = await anonymous.UploadAsync(session, jpeg);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        second.StatusCode.ShouldBe(HttpStatusCode.Created);
        second.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        (await second.ReadJsonAsync()).GetProperty("id").GetString().ShouldNotBe((await first.ReadJsonAsync()).GetProperty("id").GetString());
        (await CountsAsync(app, session)).ShouldBe((Images: 2, Deliveries: 0, ImageCount: 2));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_SameKeyOtherBytes_Answers422AndStoresNothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        using var first = await UploadAsync(anonymous, session, UploadClient.Multipart(Fixture.Bytes("small.jpg")), "k");
        first.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var other = await UploadAsync(anonymous, session, UploadClient.Multipart(Fixture.Bytes("phone-photo.jpg")), "k");
        other.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var error = await other.ReadJsonAsync();
        error.GetProperty("code").GetString().ShouldBe("IDEMPOTENCY_KEY_REUSED");
        error.GetProperty("message").GetString()!.ShouldContain("Idempotency-Key");
        (await CountsAsync(app, session)).ShouldBe((Images: 1, Deliveries: 0, ImageCount: 1));
        app.TempFiles().ShouldBeEmpty();
        StoredFiles(app).ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_EncryptedRetry_SamePlaintextReencrypted_IsTheSameImage(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var pem = await app.Client.ServerKeyAsync();
        var jpeg = Fixture.Bytes("small.jpg");
        // Each try encrypts again (a new AES key and IV): what counts is the image, not its ciphertext.
        using var first = await UploadAsync(app.Client, session, JsonContent.Create(UploadClient.Envelope(jpeg, pem)), "enc", encrypted: true);
        using var again = await UploadAsync(app.Client, session, JsonContent.Create(UploadClient.Envelope(jpeg, pem, snake: true)), "enc", encrypted: true);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await again.Content.ReadAsStringAsync()).ShouldBe(await first.Content.ReadAsStringAsync());
        using var other = await UploadAsync(app.Client, session, JsonContent.Create(UploadClient.Envelope(Fixture.Bytes("screenshot.png"), pem)), "enc",
            encrypted: true);
        (await other.ReadErrorCodeAsync()).ShouldBe("IDEMPOTENCY_KEY_REUSED");
        (await CountsAsync(app, session)).ImageCount.ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_TwinsSentAtOnce_StoreOneImage(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (hook, _) = await UploadsApiTests.AddDestinationsAsync(app);
        var session = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}"]}""")).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("phone-photo.jpg");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Every twin is past its first look for the key (streaming its body) before any of them may finish.
        var twins = Enumerable.Range(0, 4).Select(_ =>
        {
            var form = new MultipartFormDataContent();
            form.Add(new StreamContent(new GatedStream(jpeg, 1000, release.Task)), "file", "photo.jpg");
            return UploadAsync(anonymous, session, form, "twin");
        }).ToList();
        await WaitUntilAsync(() => app.TempFiles().Length == 4);
        release.SetResult();
        var answers = new List<string>();
        foreach (var twin in twins)
        {
            using var response = await twin;
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
            answers.Add(await response.Content.ReadAsStringAsync());
        }
        answers.Distinct().ShouldHaveSingleItem();
        (await CountsAsync(app, session)).ShouldBe((Images: 1, Deliveries: 1, ImageCount: 1));
        StoredFiles(app).ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_MalformedKey_Answers400(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        foreach (var key in new[] { new string('k', 256), "clé", "tab\there" })
        {
            using var response = await UploadAsync(anonymous, session, UploadClient.Multipart(Fixture.Bytes("small.jpg")), key);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, key);
            (await response.ReadErrorCodeAsync()).ShouldBe("INVALID_IDEMPOTENCY_KEY");
        }
        using var longest = await UploadAsync(anonymous, session, UploadClient.Multipart(Fixture.Bytes("small.jpg")), new string('k', 255));
        longest.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await CountsAsync(app, session)).Images.ShouldBe(1);
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string session, HttpContent content, string key, bool encrypted = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{session}/images") { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key).ShouldBeTrue();
        if (encrypted)
        {
            request.Headers.Add("X-Aptr-Encrypted", "default");
        }
        return await client.SendAsync(request);
    }

    private static async Task<(int Images, int Deliveries, int ImageCount)> CountsAsync(TestApp app, string session)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var id = Guid.Parse(session);
        return (await db.Images.CountAsync(i => i.SessionId == id), await db.Deliveries.CountAsync(d => d.SessionId == id),
            (await db.Sessions.SingleAsync(s => s.Id == id)).ImageCount);
    }

    private static int StoredFiles(TestApp app) =>
        Directory.GetFiles(Path.Combine(app.DataDirectory, "images"), "*", SearchOption.AllDirectories).Length;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>A body that sends its first bytes, then the rest once the test opens the gate.</summary>
    private sealed class GatedStream(byte[] data, int openAfter, Task gate) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= openAfter)
            {
                await gate.WaitAsync(cancellationToken);
                return await base.ReadAsync(buffer, cancellationToken);
            }
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, openAfter - (int)Position)], cancellationToken);
        }
    }
}
