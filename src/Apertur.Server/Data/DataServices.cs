using Apertur.Server.Delivery;
using Apertur.Server.Hosting;
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
        services.AddDbContextPool<AperturDb>(db =>
        {
            switch (options.Provider)
            {
                case DatabaseProvider.Sqlite:
                    db.UseSqlite(connectionString).AddInterceptors(new SqliteConnectionSetup());
                    break;
                case DatabaseProvider.Postgres:
                    db.UseNpgsql(connectionString);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown database provider '{options.Provider}'.");
            }
        });
        // The delivery queue's claim is the one query that differs per database.
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                services.AddScoped<IDeliveryQueue, SqliteDeliveryQueue>();
                // Microsoft.Data.Sqlite's async calls run synchronously: a thread pool sized for waiting, not only for CPU.
                ThreadPool.GetMinThreads(out var workers, out var io);
                ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
                break;
            case DatabaseProvider.Postgres:
                services.AddScoped<IDeliveryQueue, PostgresDeliveryQueue>();
                break;
        }
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<WriteGate>();
        return services;
    }

    private static string ResolveConnectionString(DatabaseOptions options, string dataDirectory)
    {
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
