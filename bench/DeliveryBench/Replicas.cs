using System.Net;
using System.Security.Cryptography;
using System.Text;

/// <summary>
/// Server processes as replicas (docs/scale-out.md), for --replicas: one PostgreSQL database (the <see cref="Storage"/>'s),
/// images in one fresh S3 bucket (--s3, fauxqs of scripts/services.sh), one master key file shared by all; each replica
/// with a data directory and a loopback port of its own. Replica A starts first (it migrates the database), the others
/// once it answers /healthz.
/// </summary>
internal sealed class Replicas : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<Server> _servers;

    private Replicas(List<Server> servers) => _servers = servers;

    public IReadOnlyList<Server> Servers => _servers;

    public Server this[int index] => _servers[index];

    /// <summary>A, B, C…</summary>
    public static string Name(int index) => ((char)('A' + index)).ToString();

    public static async Task<Replicas> StartAsync(BenchOptions options, Storage storage, int count, Func<int, bool> workerEnabled)
    {
        var endpoint = options.S3.TrimEnd('/');
        var bucket = "apertur-bench-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await Http.PutAsync(new Uri($"{endpoint}/{bucket}"), null))
        {
            if (created.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"creating bucket {bucket} at {endpoint} answered {(int)created.StatusCode}: " +
                    $"{await created.Content.ReadAsStringAsync()} (scripts/services.sh start fauxqs)");
            }
        }
        var masterKeyFile = Path.Combine(storage.DataDirectory, "master.key");
        WriteMasterKey(masterKeyFile);

        Task<Server> StartReplicaAsync(int index)
        {
            var dataDirectory = Path.Combine(storage.DataDirectory, "replica-" + Name(index));
            Directory.CreateDirectory(dataDirectory);
            return Server.StartAsync(options, storage, workerEnabled(index), new Dictionary<string, string>
            {
                ["Apertur__DataDirectory"] = dataDirectory,
                ["Apertur__Secrets__MasterKeyFile"] = masterKeyFile,
                ["Apertur__Storage__Kind"] = "s3",
                ["Apertur__Storage__S3__ServiceUrl"] = endpoint,
                ["Apertur__Storage__S3__Bucket"] = bucket,
                ["Apertur__Storage__S3__Region"] = "eu-west-1",
                ["Apertur__Storage__S3__AccessKeyId"] = "bench",
                ["Apertur__Storage__S3__SecretAccessKey"] = "bench-secret",
                ["Apertur__Storage__S3__ForcePathStyle"] = "true",
            });
        }

        var servers = new List<Server> { await StartReplicaAsync(0) };
        var others = Enumerable.Range(1, count - 1).Select(StartReplicaAsync).ToList();
        try
        {
            servers.AddRange(await Task.WhenAll(others));
        }
        catch
        {
            servers.AddRange(others.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            servers.ForEach(s => s.Dispose());
            throw;
        }
        return new Replicas(servers);
    }

    public void Dispose() => _servers.ForEach(s => s.Dispose());

    /// <summary>32 random bytes, base64, in a file only this user reads (as the server writes its own master.key).</summary>
    private static void WriteMasterKey(string path)
    {
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, file);
        stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n"));
    }
}
