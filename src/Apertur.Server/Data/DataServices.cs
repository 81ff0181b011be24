using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Data;

public static class DataServices
{
    /// <summary>Registers the DbContext for the configured provider. The only place the provider is switched on.</summary>
    public static IServiceCollection AddAperturData(this IServiceCollection services, IConfiguration configuration)
    {
        // Read now, checked like every setting (Hosting/SettingsValidation.cs): the provider decides the registrations below.
        var options = configuration.ReadSettings<DatabaseOptions>(DatabaseOptions.Section);
        var dataDirectory = AperturOptions.ResolveDataDirectory(configuration);
        var connectionString = ResolveConnectionString(options, dataDirectory);
        services.AddSingleton(new DatabaseSettings(options.Provider, connectionString));
        services.AddDbContextPool<AperturDb>((services, db) =>
        {
            switch (options.Provider)
            {
                case DatabaseProvider.Sqlite:
                    // Every EF Core write holds the write gate: taken by interceptors, never by hand (Data/WriteGate.cs).
                    db.UseSqlite(connectionString).AddInterceptors(new SqliteConnectionSetup()).UseWriteGate(services.GetRequiredService<WriteGate>());
                    break;
                case DatabaseProvider.Postgres:
                    db.UseNpgsql(connectionString);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown database provider '{options.Provider}'.");
            }
        });
        // The lease claim of the outboxes is the one query that differs per database (Queues/LeaseQueue.cs).
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                services.AddSingleton<LeaseDialect>(sp => new LeaseDialect.Sqlite(sp.GetRequiredService<WriteGate>()));
                // Microsoft.Data.Sqlite's async calls run synchronously: a thread pool sized for waiting, not only for CPU.
                ThreadPool.GetMinThreads(out var workers, out var io);
                ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
                // One process on its data directory: nobody to tell about events and nudges.
                services.AddSingleton<IReplicaSignals, NoReplicas>();
                services.AddSingleton<IRateCounter>(sp => sp.GetRequiredService<RateLimiter>());
                services.AddSingleton<IJobLock, InProcessJobLock>();
                break;
            case DatabaseProvider.Postgres:
                services.AddSingleton<LeaseDialect, LeaseDialect.Postgres>();
                // Replicas on one database share session events and nudges through LISTEN/NOTIFY (docs/scale-out.md).
                services.AddSingleton<PostgresReplicas>();
                services.AddSingleton<IReplicaSignals>(sp => sp.GetRequiredService<PostgresReplicas>());
                services.AddHostedService(sp => sp.GetRequiredService<PostgresReplicas>());
                services.AddHostedService<PostgresReplicaListener>();
                // Rate limits hold for the deployment, not per replica.
                services.AddSingleton<IRateCounter, PostgresRateCounter>();
                // Periodic jobs run one pass at a time in the deployment.
                services.AddSingleton<IJobLock, PostgresJobLock>();
                break;
        }
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<WriteGate>();
        return services;
    }

    private static string ResolveConnectionString(DatabaseOptions options, string dataDirectory)
    {
        if (options.Provider == DatabaseProvider.Postgres)
        {
            return PostgresConnectionDefaults.Apply(options.ConnectionString ?? "");
        }
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return options.ConnectionString;
        }
        Hosting.DataDirectory.CreateOwnerOnly(dataDirectory);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "apertur.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }
}

/// <summary>The resolved provider and connection string.</summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString);
