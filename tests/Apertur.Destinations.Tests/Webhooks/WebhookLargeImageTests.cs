using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>Allocation is measured process-wide, so nothing else may run meanwhile.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>A 20 MB image in json_base64 is streamed: encoded on the way out, never whole in memory.</summary>
[Collection(nameof(RunsAlone))]
public sealed class WebhookLargeImageTests : IAsyncLifetime
{
    private const int ImageSize = 20 * 1024 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("apertur-webhook-").FullName;
    private readonly HttpClient _http = Hooks.GuardedClient();
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task DeliverAsync_20MbJsonBase64_AllocatesFarLessThanTheImageAndSendsExactBase64()
    {
        var source = Path.Combine(_directory, "large.jpg");
        await using (var file = File.Create(source))
        {
            var chunk = new byte[1024 * 1024];
            var random = new Random(20);
            for (var i = 0; i < ImageSize / chunk.Length; i++)
            {
                random.NextBytes(chunk);
                await file.WriteAsync(chunk);
            }
        }
        var image = Hooks.Image([]) with
        {
            SizeBytes = ImageSize,
            OpenReadAsync = _ => Task.FromResult<Stream>(new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true)),
        };
        _receiver.BodyFile = Path.Combine(_directory, "received.json");
        var destination = Hooks.Destination(_http, new ManualClock());
        // Warm up: first-call JIT, connection pool, Kestrel.
        (await destination.DeliverAsync(Hooks.Request(_receiver.Url(), "json_base64", Hooks.Image(Hooks.ImageBytes(1000))), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await destination.DeliverAsync(Hooks.Request(_receiver.Url(), "json_base64", image), CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        allocated.ShouldBeLessThan(4 * 1024 * 1024, $"allocated {allocated:N0} bytes (receiver included) to send a {ImageSize:N0}-byte image");

        var received = await File.ReadAllBytesAsync(_receiver.BodyFile);
        var request = _receiver.Requests.Last();
        request.Header("Content-Length").ShouldBe(received.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Verify.SdkSignature(Hooks.WhsecSecret, received, request.Header("X-Aptr-Signature")).ShouldBeTrue();
        Verify.StandardSignature(Hooks.WhsecSecret, request with { Body = received }).ShouldBeTrue();
        using var json = JsonDocument.Parse(received);
        json.RootElement.GetProperty("size_bytes").GetInt64().ShouldBe(ImageSize);
        var data = json.RootElement.GetProperty("data").GetString()!;
        data.ShouldBe(Convert.ToBase64String(await File.ReadAllBytesAsync(source)));
        SHA256.HashData(Convert.FromBase64String(data)).ShouldBe(SHA256.HashData(await File.ReadAllBytesAsync(source)));
        Encoding.ASCII.GetString(received, received.Length - 2, 2).ShouldBe("\"}");
    }
}
