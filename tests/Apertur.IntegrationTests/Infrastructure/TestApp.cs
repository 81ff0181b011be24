using System.Net.Http.Headers;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Tests;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>The databases every persistence test runs on.</summary>
public sealed class Databases : TheoryData<string>
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public Databases()
    {
        Add(Sqlite);
        Add(Postgres);
    }
}

/// <summary>
/// The real server in memory, on a database of its own: a fresh SQLite file in a temp directory, or a fresh PostgreSQL
/// database on the test server started by scripts/services.sh (APERTUR_TEST_POSTGRES). Seeds one live and one test key.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly string _dataDirectory;
    private readonly string? _postgresDatabase;
    private readonly string _postgresAdmin;
    private readonly Dictionary<string, string?> _config;
    private bool _ownsStorage;

    public string LiveKey { get; }
    public string TestKey { get; }
    public string Database { get; }
    public string DataDirectory => _dataDirectory;
    public ManualClock? Clock { get; }

    /// <summary>What this instance printed at its start and logged since (a restart or another replica has its own).</summary>
    public CapturedOutput Output { get; }

    /// <summary>The settings this server was started with (data directory, database, keys, …): what a child process needs to share its storage.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _config;

    /// <summary>A client that sends the live key.</summary>
    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _factory.Services;

    private TestApp(WebApplicationFactory<Program> factory, string database, string dataDirectory, string? postgresDatabase, string postgresAdmin,
        Dictionary<string, string?> config, bool ownsStorage, string liveKey, string testKey, ManualClock? clock, Uri? kestrelAddress,
        CapturedOutput output)
    {
        _postgresAdmin = postgresAdmin;
        Output = output;
        KestrelAddress = kestrelAddress;
        _factory = factory;
        Database = database;
        _dataDirectory = dataDirectory;
        _postgresDatabase = postgresDatabase;
        _config = config;
        _ownsStorage = ownsStorage;
        LiveKey = liveKey;
        TestKey = testKey;
        Clock = clock;
    }

    /// <summary>The real socket address when started with <c>kestrel: true</c>; null for the in-memory server.</summary>
    public Uri? KestrelAddress { get; }

    /// <summary>
    /// Starts a server. <paramref name="settings"/> adds configuration (e.g. <c>Apertur:RateLimits:Upload</c>).
    /// <paramref name="kestrel"/> serves on a loopback port instead of in memory, for tests about bytes on the wire.
    /// <paramref name="postgresAdmin"/> puts the PostgreSQL database on another server than the shared one (a
    /// <see cref="PrivatePostgres"/> the test may stop); <paramref name="services"/> changes the host's services (e.g. adds an
    /// EF interceptor with <c>ConfigureDbContext</c>).
    /// </summary>
    public static async Task<TestApp> StartAsync(string database, IDictionary<string, string?>? settings = null, ManualClock? clock = null,
        bool kestrel = false, string? postgresAdmin = null, Action<IServiceCollection>? services = null)
    {
        postgresAdmin ??= PostgresAdminConnectionString;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var liveKey = ApiKeyTokens.Generate(ApiKeyTokens.Live);
        var testKey = ApiKeyTokens.Generate(ApiKeyTokens.Test);
        var config = new Dictionary<string, string?>
        {
            ["Apertur:DataDirectory"] = dataDirectory,
            ["Apertur:Database:Provider"] = database,
            ["Apertur:Bootstrap:ApiKey"] = liveKey,
            ["Apertur:Bootstrap:TestApiKey"] = testKey,
            // Test receivers and servers listen on loopback: allow it explicitly past the SSRF guard.
            ["Apertur:Outbound:AllowedNetworks:0"] = "127.0.0.0/8",
            // The background workers (deliveries, failure e-mails, event deliveries, expiry sweep) are off unless a test turns
            // them on: seeded and uploaded deliveries stay as they are.
            ["Apertur:Workers:Enabled"] = "false",
        };
        if (kestrel)
        {
            config["Urls"] = "http://127.0.0.1:0";
        }
        string? postgresDatabase = null;
        if (database == Databases.Postgres)
        {
            postgresDatabase = "apertur_t_" + Guid.NewGuid().ToString("N");
            config["Apertur:Database:ConnectionString"] = await CreatePostgresDatabaseAsync(postgresAdmin, postgresDatabase);
        }
        return await LaunchAsync(database, dataDirectory, postgresDatabase, postgresAdmin, config, settings, ownsStorage: true, liveKey, testKey, clock,
            kestrel, services);
    }

    /// <summary>
    /// A second server on this one's data directory and database, with the same settings plus <paramref name="settings"/>: what
    /// a restart or another replica sees. Disposing it leaves the storage to this instance.
    /// </summary>
    public Task<TestApp> StartAnotherAsync(IDictionary<string, string?>? settings = null) =>
        LaunchAsync(Database, _dataDirectory, _postgresDatabase, _postgresAdmin, _config, settings, ownsStorage: false, LiveKey, TestKey, Clock,
            KestrelAddress is not null);

    /// <summary>
    /// Stops this Kestrel server as a crash-free restart would (in-flight requests get the host's shutdown timeout, then are
    /// cut), runs <paramref name="whileDown"/>, and starts the server again on the same port, data directory and database.
    /// The new instance takes over the storage: dispose both, this one no longer deletes anything.
    /// </summary>
    public async Task<TestApp> RestartAsync(Func<Task>? whileDown = null)
    {
        var address = KestrelAddress ?? throw new InvalidOperationException("Only a Kestrel test server (kestrel: true) keeps a port to come back on.");
        Client?.Dispose();
        await _factory.DisposeAsync();
        var ownsStorage = _ownsStorage;
        _ownsStorage = false;
        if (whileDown is not null)
        {
            await whileDown();
        }
        var samePort = new Dictionary<string, string?> { ["Urls"] = address.GetLeftPart(UriPartial.Authority) };
        return await LaunchAsync(Database, _dataDirectory, _postgresDatabase, _postgresAdmin, _config, samePort, ownsStorage, LiveKey, TestKey, Clock,
            kestrel: true);
    }

    private static async Task<TestApp> LaunchAsync(string database, string dataDirectory, string? postgresDatabase, string postgresAdmin,
        Dictionary<string, string?> baseConfig, IDictionary<string, string?>? settings, bool ownsStorage, string liveKey, string testKey, ManualClock? clock,
        bool kestrel, Action<IServiceCollection>? configureServices = null)
    {
        var config = new Dictionary<string, string?>(baseConfig);
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        var output = new CapturedOutput();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (k, v) in config)
            {
                web.UseSetting(k, v);
            }
            web.ConfigureTestServices(services =>
            {
                services.AddSingleton(output.Console);
                services.AddSingleton<ILoggerProvider>(output);
                if (clock is not null)
                {
                    services.RemoveAll<TimeProvider>();
                    services.AddSingleton<TimeProvider>(clock);
                }
                configureServices?.Invoke(services);
            });
        });
        Uri? kestrelAddress = null;
        if (kestrel)
        {
            factory.UseKestrel();
            factory.StartServer();
            kestrelAddress = new Uri(factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        }
        var app = new TestApp(factory, database, dataDirectory, postgresDatabase, postgresAdmin, config, ownsStorage, liveKey, testKey, clock, kestrelAddress,
            output);
        try
        {
            // Touch the server so start-up (migrations, bootstrap) has run before the test.
            app.Client = app.CreateClient(liveKey);
            using var health = await app.Client.GetAsync("/healthz");
            health.EnsureSuccessStatusCode();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops this in-memory server and keeps its storage (deleted at dispose as before), so that a server process can take
    /// the data directory over: SQLite serves one process per data directory (docs/scale-out.md). Read what the process
    /// stores with <see cref="ReadStorageAsync{T}"/>.
    /// </summary>
    public async Task StopServerAsync()
    {
        Client?.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>Reads this server's database directly, without a server: works while it is stopped and another process serves.</summary>
    public async Task<T> ReadStorageAsync<T>(Func<AperturDb, Task<T>> read)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_config).Build();
        await using var provider = new ServiceCollection().AddLogging().AddAperturData(configuration).BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<AperturDb>());
    }

    /// <summary>A client with the given bearer key, or none.</summary>
    public HttpClient CreateClient(string? key = null)
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            BaseAddress = KestrelAddress ?? new Uri("http://localhost"),
        });
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>A client whose requests pass through <paramref name="handlers"/> (e.g. one that records the answers); redirects are not followed.</summary>
    public HttpClient CreateClient(string? key, params DelegatingHandler[] handlers)
    {
        var client = _factory.CreateDefaultClient(KestrelAddress ?? new Uri("http://localhost"), handlers);
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public static string PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable("APERTUR_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres";

    private static async Task<string> CreatePostgresDatabaseAsync(string admin, string name)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"CREATE DATABASE \"{name}\"";
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        await _factory.DisposeAsync();
        if (!_ownsStorage)
        {
            return;
        }
        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"DROP DATABASE IF EXISTS \"{_postgresDatabase}\" WITH (FORCE)";
            await cmd.ExecuteNonQueryAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a background writer; the temp directory is cleaned by the OS.
        }
    }
}
