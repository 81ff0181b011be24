using System.Collections.Concurrent;
using Apertur.Destinations.Ftp;
using Apertur.Destinations.WebDav;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Files;

/// <summary>
/// A receiver never sees a half-written file under its final name: an image whose stream stops halfway (until the test
/// lets it go) is delivered to vsftpd and to Apache WebDAV, and the folder the server writes to is read on disk while the
/// upload waits; then the upload finishes and the final file holds exactly the image, with no temporary file left.
/// </summary>
public sealed class TempThenRenameTests : IAsyncLifetime
{
    private const int Size = 2_000_000;
    private const int PauseAt = 1_000_000;
    private readonly (string Remote, string Local) _ftpFolder = LoopbackFiles.NewFolder();
    private readonly string _davFolder = $"apertur-tests/{Guid.NewGuid():N}";
    private readonly HttpClient _reader = LoopbackFiles.WebDavClient();

    private static string DavLocal(string folder) => Path.Combine(LoopbackFiles.RepositoryRoot(), ".services", "webdav", "data", folder);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        LoopbackFiles.DeleteLocal(_ftpFolder.Local);
        await LoopbackFiles.DeleteWebDavAsync(_davFolder);
        _reader.Dispose();
    }

    private static Dictionary<string, object?> Ftp(string remoteDir) => new()
    {
        ["host"] = "127.0.0.1",
        ["port"] = LoopbackFiles.FtpPort,
        ["username"] = LoopbackFiles.User,
        ["password"] = LoopbackFiles.Password,
        ["tls"] = "none",
        ["remote_dir"] = remoteDir,
        ["path_template"] = "{image_index}.{ext}",
    };

    private Dictionary<string, object?> Dav() => new()
    {
        ["url"] = LoopbackFiles.WebDavRoot.AbsoluteUri,
        ["username"] = LoopbackFiles.User,
        ["password"] = LoopbackFiles.Password,
        ["remote_dir"] = _davFolder,
        ["path_template"] = "{image_index}.{ext}",
    };

    /// <summary>Waits until the server holds part of the new image, under whatever name: more bytes in the folder than <paramref name="before"/>.</summary>
    private static Task PartOfTheImageAsync(string folder, long before) =>
        Wait.UntilAsync(() => Task.FromResult(Directory.Exists(folder) && Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length) > before),
            what: "part of the image on the server");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ftp_WhileUploading_TheFinalNameIsAbsent_ThenItHoldsTheImageAndNoTemporaryFileIsLeft(bool replacing)
    {
        var ftp = new FtpDestination(FileKit.LoopbackGuard());
        var config = FileKit.Config(Ftp(_ftpFolder.Remote));
        var final = Path.Combine(_ftpFolder.Local, "3.jpg");
        var old = FileKit.Bytes(5000, seed: 9);
        if (replacing)
        {
            (await ftp.DeliverAsync(FileKit.Request(DestinationKinds.Ftp, config, FileKit.Image(old)), CancellationToken.None))
                .ShouldBeOfType<DeliveryResult.Delivered>();
        }
        var bytes = FileKit.Bytes(Size, seed: 3);
        var gate = new Gate();

        var delivering = ftp.DeliverAsync(FileKit.Request(DestinationKinds.Ftp, config, gate.Image(bytes)), CancellationToken.None);
        await gate.Reached;
        // The server has part of the image (under some name): only then does the listing say something.
        await PartOfTheImageAsync(_ftpFolder.Local, replacing ? old.Length : 0);

        if (replacing)
        {
            File.ReadAllBytes(final).ShouldBe(old);
        }
        else
        {
            File.Exists(final).ShouldBeFalse();
        }
        var temporary = Directory.GetFiles(_ftpFolder.Local).Select(Path.GetFileName).Where(n => n != "3.jpg").ShouldHaveSingleItem();
        temporary!.ShouldStartWith(".3.jpg.part-");

        gate.Release();
        (await delivering).ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(final).ShouldBe(bytes);
        LoopbackFiles.FilesUnder(_ftpFolder.Local).ShouldBe(["3.jpg"]);
    }

    [Fact]
    public async Task Ftp_UploadFailingHalfway_LeavesNeitherTheFinalNameNorATemporaryFile()
    {
        var ftp = new FtpDestination(FileKit.LoopbackGuard());
        var config = FileKit.Config(Ftp(_ftpFolder.Remote));
        var gate = new Gate(fail: true);

        var delivering = ftp.DeliverAsync(FileKit.Request(DestinationKinds.Ftp, config, gate.Image(FileKit.Bytes(Size))), CancellationToken.None);
        await gate.Reached;
        await PartOfTheImageAsync(_ftpFolder.Local, 0);
        gate.Release();

        (await delivering).ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldStartWith("Could not read the image");
        LoopbackFiles.FilesUnder(_ftpFolder.Local).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WebDav_WhileUploading_TheFinalNameIsAbsent_ThenItHoldsTheImageAndNoTemporaryFileIsLeft(bool replacing)
    {
        var requests = new ConcurrentQueue<string>();
        using var http = new HttpClient(new Recorder(requests, FileKit.LoopbackGuard().CreateHandler()));
        var dav = new WebDavDestination(http, new ManualClock());
        var config = FileKit.Config(Dav());
        var local = DavLocal(_davFolder);
        var final = Path.Combine(local, "3.jpg");
        var old = FileKit.Bytes(5000, seed: 9);
        if (replacing)
        {
            (await dav.DeliverAsync(FileKit.Request(DestinationKinds.WebDav, config, FileKit.Image(old)), CancellationToken.None))
                .ShouldBeOfType<DeliveryResult.Delivered>().StatusCode.ShouldBe(201);
        }
        requests.Clear();
        var bytes = FileKit.Bytes(Size, seed: 3);
        var gate = new Gate();

        var delivering = dav.DeliverAsync(FileKit.Request(DestinationKinds.WebDav, config, gate.Image(bytes)), CancellationToken.None);
        await gate.Reached;
        await PartOfTheImageAsync(local, replacing ? old.Length : 0);

        if (replacing)
        {
            File.ReadAllBytes(final).ShouldBe(old);
        }
        else
        {
            File.Exists(final).ShouldBeFalse();
        }

        gate.Release();
        (await delivering).ShouldBeOfType<DeliveryResult.Delivered>().StatusCode.ShouldBe(replacing ? 204 : 201);
        File.ReadAllBytes(final).ShouldBe(bytes);
        LoopbackFiles.FilesUnder(local).ShouldBe(["3.jpg"]);
        // The bytes went to a temporary name, checked there, then moved onto the final name.
        var put = requests.Single(r => r.StartsWith("PUT ", StringComparison.Ordinal));
        put.ShouldStartWith($"PUT /dav/{_davFolder}/.3.jpg.part-");
        requests.ShouldContain($"PROPFIND {put[4..]}");
        requests.Last().ShouldBe($"MOVE {put[4..]} -> /dav/{_davFolder}/3.jpg (Overwrite: T)");
    }

    [Fact]
    public async Task WebDav_ServerWithoutMove_WritesInPlaceAndRemovesTheTemporaryFile()
    {
        var requests = new ConcurrentQueue<string>();
        using var http = new HttpClient(new Recorder(requests, FileKit.LoopbackGuard().CreateHandler(), refuseMove: true));
        var dav = new WebDavDestination(http, new ManualClock());
        var bytes = FileKit.Bytes(300_000, seed: 4);

        var result = await dav.DeliverAsync(FileKit.Request(DestinationKinds.WebDav, FileKit.Config(Dav()), FileKit.Image(bytes)), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Delivered>().StatusCode.ShouldBe(201);
        File.ReadAllBytes(Path.Combine(DavLocal(_davFolder), "3.jpg")).ShouldBe(bytes);
        LoopbackFiles.FilesUnder(DavLocal(_davFolder)).ShouldBe(["3.jpg"]);
        requests.ShouldContain($"PUT /dav/{_davFolder}/3.jpg");
    }

    /// <summary>An image whose stream gives <see cref="PauseAt"/> bytes, then waits for <see cref="Release"/> (and then fails, when asked to).</summary>
    private sealed class Gate(bool fail = false)
    {
        private readonly TaskCompletionSource<PausingStream> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _opened.Task.ContinueWith(t => t.Result.Paused, TaskScheduler.Default).Unwrap();

        public void Release() => _opened.Task.Result.Resume();

        public DeliveryImage Image(byte[] bytes) => FileKit.Image(bytes) with
        {
            OpenReadAsync = _ =>
            {
                var stream = new PausingStream(bytes, PauseAt, failOnResume: fail);
                _opened.TrySetResult(stream);
                return Task.FromResult<Stream>(stream);
            },
        };
    }

    /// <summary>Records each request as "METHOD path" (MOVE with its destination); answers MOVE 405 itself when asked to.</summary>
    private sealed class Recorder(ConcurrentQueue<string> requests, HttpMessageHandler inner, bool refuseMove = false) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method.Method == "MOVE")
            {
                var to = new Uri(request.Headers.GetValues("Destination").Single()).AbsolutePath;
                requests.Enqueue($"MOVE {path} -> {to} (Overwrite: {request.Headers.GetValues("Overwrite").Single()})");
                if (refuseMove)
                {
                    return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.MethodNotAllowed) { RequestMessage = request });
                }
            }
            else
            {
                requests.Enqueue($"{request.Method.Method} {path}");
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
