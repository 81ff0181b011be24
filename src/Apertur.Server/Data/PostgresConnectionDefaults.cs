using System.Data.Common;
using Npgsql;

namespace Apertur.Server.Data;

/// <summary>
/// What Apertur adds to a PostgreSQL connection string the operator did not say otherwise about (docs/deploy.md "PostgreSQL").
/// <para>
/// <c>Max Auto Prepare</c>: Npgsql prepares, per connection, the statements it sees run often (server-side prepared
/// statements), so PostgreSQL stops parsing and planning the same few statements of every upload again: half its CPU per
/// upload (docs/performance.md "Issue 21"). Npgsql's default is off. An operator behind a pooler that cannot keep prepared
/// statements (PgBouncer in transaction mode before 1.21) sets <c>Max Auto Prepare=0</c>, which is kept.
/// </para>
/// </summary>
public static class PostgresConnectionDefaults
{
    /// <summary>Statements kept prepared per connection: more than the distinct statements of the hot paths.</summary>
    public const int MaxAutoPrepare = 64;

    public static string Apply(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Mentions(connectionString, "maxautoprepare"))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }
        return builder.ConnectionString;
    }

    // Whether the operator's string sets the keyword at all (0 included), in any of its spellings ("Max Auto Prepare", "MaxAutoPrepare").
    private static bool Mentions(string connectionString, string keyword)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals(keyword, StringComparison.OrdinalIgnoreCase));
    }
}
