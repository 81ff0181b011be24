using System.Net.Http.Headers;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Storage;

namespace Apertur.IntegrationTests.ScaleOut;

/// <summary>
/// Replicas as an operator runs them (docs/scale-out.md): separate server processes, each with a data directory of its own,
/// on one PostgreSQL database and one bucket, sharing one master key through <c>Apertur:Secrets:MasterKeyFile</c>. An
/// in-memory <see cref="TestApp"/> (the "owner") creates the database and the seed data first, then stops; the test reads
/// the shared database through it (<see cref="TestApp.ReadStorageAsync{T}"/>).
/// </summary>
public sealed class ProcessReplicas : IAsyncDisposable
{
    private readonly List<Replica> _replicas;

    private ProcessReplicas(TestApp owner, string bucket, List<Replica> replicas)
    {
        Owner = owner;
        Bucket = bucket;
        _replicas = replicas;
    }

    public TestApp Owner { get; }
    public string Bucket { get; }
    public IReadOnlyList<Replica> Replicas => _replicas;
    public Replica this[int index] => _replicas[index];

    /// <summary>The owner's settings for a deployment on PostgreSQL and <paramref name="bucket"/>, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string?> Settings(string bucket, IDictionary<string, string?>? extra = null) =>
        S3ImageStoreTests.S3Settings(bucket, extra: extra);

    /// <summary>
    /// Stops <paramref name="owner"/> (started with <see cref="Settings"/>) and starts <paramref name="count"/> replicas at
    /// once on its database and bucket, with its settings plus <paramref name="replicaSettings"/> for replica i.
    /// </summary>
    public static async Task<ProcessReplicas> StartAsync(TestApp owner, string bucket, int count,
        Func<int, IDictionary<string, string?>>? replicaSettings = null)
    {
        await owner.StopServerAsync();
        var processes = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var settings = new Dictionary<string, string?>(owner.Settings);
                // Each replica has its own data directory (temp files, its own logs), as on its own machine; the master key
                // is the one thing they share from the owner's directory.
                settings.Remove("Apertur:DataDirectory");
                settings["Apertur:Secrets:MasterKeyFile"] = Path.Combine(owner.DataDirectory, "master.key");
                settings["Urls"] = "http://127.0.0.1:0";
                foreach (var (key, value) in replicaSettings?.Invoke(i) ?? new Dictionary<string, string?>())
                {
                    settings[key] = value;
                }
                processes.Add(ServerProcess.Start([], ServerProcess.AsEnvironment(settings)));
            }
            var replicas = new List<Replica>();
            foreach (var (process, i) in processes.Select((p, i) => (p, i)))
            {
                replicas.Add(new Replica((char)('A' + i), process, await process.ListeningAsync(), owner.LiveKey));
            }
            return new ProcessReplicas(owner, bucket, replicas);
        }
        catch
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>What every replica printed, for a failure message.</summary>
    public string Output => string.Join("\n", _replicas.Select(r => $"--- replica {r.Name}\n{r.Process.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            replica.Dispose();
            await replica.Process.DisposeAsync();
        }
    }

    public sealed class Replica(char name, ServerProcess process, Uri address, string liveKey) : IDisposable
    {
        public char Name { get; } = name;
        public ServerProcess Process { get; } = process;
        public Uri Address { get; } = address;

        /// <summary>A client with the live key, as a business's backend calls.</summary>
        public HttpClient Client { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = address,
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", liveKey) },
            Timeout = TimeSpan.FromSeconds(100),
        };

        /// <summary>A client without a key, as a phone's browser calls.</summary>
        public HttpClient Anonymous() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(100) };

        public void Dispose() => Client.Dispose();

        public override string ToString() => $"replica {Name} ({Address})";
    }
}
