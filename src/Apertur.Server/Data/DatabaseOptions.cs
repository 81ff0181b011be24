using Apertur.Server.Hosting;

namespace Apertur.Server.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Settings section <c>Apertur:Database</c>.</summary>
public sealed class DatabaseOptions : ISettings
{
    public const string Section = "Apertur:Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Empty means a SQLite file <c>apertur.db</c> under the data directory.</summary>
    public string? ConnectionString { get; set; }

    public IReadOnlyList<string> Problems() => Provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString)
        ? [$"{Section}:{nameof(ConnectionString)} is required when {nameof(Provider)} is Postgres."]
        : [];
}
