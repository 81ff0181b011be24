namespace Apertur.Server.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Settings section <c>Apertur:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Apertur:Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Empty means a SQLite file <c>apertur.db</c> under the data directory.</summary>
    public string? ConnectionString { get; set; }
}
