using Apertur.Destinations.Ftp;
using Apertur.Destinations.Sftp;
using Apertur.Destinations.WebDav;
using Apertur.Tests;
using Xunit.Abstractions;

namespace Apertur.Destinations.Tests.Files;

/// <summary>A 5 MB image is streamed to each file server, never loaded whole: allocation is measured process-wide, so alone.</summary>
[Collection("RunsAlone")]
public sealed class LargeImageTests(ITestOutputHelper output) : IDisposable
{
    private const int ImageSize = 5 * 1024 * 1024;
    private readonly string _source = Path.Combine(Path.GetTempPath(), $"apertur-large-{Guid.NewGuid():N}.jpg");
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly HttpClient _http = new(FileKit.LoopbackGuard().CreateHandler());

    public void Dispose()
    {
        File.Delete(_source);
        LoopbackFiles.DeleteLocal(_folder.Local);
        LoopbackFiles.DeleteWebDavAsync(_folder.Remote).GetAwaiter().GetResult();
        _http.Dispose();
    }

    private DeliveryImage Image()
    {
        if (!File.Exists(_source))
        {
            File.WriteAllBytes(_source, FileKit.Bytes(ImageSize, seed: 5));
        }
        return FileKit.Image([]) with
    {
        SizeBytes = ImageSize,
            OpenReadAsync = _ => Task.FromResult<Stream>(new FileStream(_source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true)),
        };
    }

    [Theory]
    [InlineData(DestinationKinds.Sftp)]
    [InlineData(DestinationKinds.Ftp)]
    [InlineData(DestinationKinds.WebDav)]
    public async Task DeliverAsync_5MbImage_AllocatesFarLessThanTheImageAndStoresItExactly(string kind)
    {
        var (destination, config) = kind switch
        {
            DestinationKinds.Sftp => ((IDestination)new SftpDestination(FileKit.LoopbackGuard(), new ManualClock()), FileKit.Config(new
            {
                host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, private_key = LoopbackFiles.Key(LoopbackFiles.Ed25519),
                remote_dir = _folder.Remote,
            })),
            DestinationKinds.Ftp => (new FtpDestination(FileKit.LoopbackGuard()), FileKit.Config(new
            {
                host = "127.0.0.1", port = LoopbackFiles.FtpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, tls = "none",
                remote_dir = _folder.Remote,
            })),
            _ => (new WebDavDestination(_http, new ManualClock()), FileKit.Config(new
            {
                url = LoopbackFiles.WebDavRoot.AbsoluteUri, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = _folder.Remote,
            })),
        };
        // Warm up: first-call JIT, libcurl initialisation, connection pools.
        (await destination.DeliverAsync(FileKit.Request(kind, config, FileKit.Image([1, 2, 3], index: 0)), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var image = Image();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await destination.DeliverAsync(FileKit.Request(kind, config, image), CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{kind}: 5 MiB in {clock.ElapsedMilliseconds} ms, {allocated:N0} bytes allocated");

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        allocated.ShouldBeLessThan(1024 * 1024, $"allocated {allocated:N0} bytes to send a {ImageSize:N0}-byte image over {kind}");
        var stored = kind == DestinationKinds.WebDav
            ? await LoopbackFiles.WebDavClient().GetByteArrayAsync($"{_folder.Remote}/{FileKit.SessionId}/3.jpg")
            : File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "3.jpg"));
        stored.ShouldBe(File.ReadAllBytes(_source));
    }
}
