using System.Net.Sockets;
using Apertur.Server.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;
using Shouldly;

namespace Apertur.UnitTests.Hosting;

/// <summary>
/// What counts as "the database cannot be used right now" (answered 503, logged in one line) and what stays a bug
/// (500, logged with its stack trace).
/// </summary>
public sealed class DatabaseUnavailableTests
{
    [Fact]
    public void Is_RefusedConnectionOrBusySqlite_TrueAndABugFalse()
    {
        DatabaseUnavailable.Is(new NpgsqlException("refused", new SocketException((int)SocketError.ConnectionRefused))).ShouldBeTrue();
        DatabaseUnavailable.Is(new InvalidOperationException("wrapped", new SqliteException("locked", 6))).ShouldBeTrue();
        DatabaseUnavailable.Is(new SqliteException("constraint", 19)).ShouldBeFalse();
        DatabaseUnavailable.Is(new InvalidOperationException("a bug")).ShouldBeFalse();
    }

    [Fact]
    public void LogJobFailure_DatabaseUnavailable_OneWarningWithoutException()
    {
        var logger = new ListLogger();
        var bugs = 0;

        DatabaseUnavailable.LogJobFailure(logger, new NpgsqlException("refused", new SocketException((int)SocketError.ConnectionRefused)),
            "Claiming due deliveries", (_, _) => bugs++);

        bugs.ShouldBe(0);
        var entry = logger.Entries.ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Warning);
        entry.Exception.ShouldBeNull();
        entry.Message.ShouldStartWith("Claiming due deliveries: the database is unavailable");
    }

    [Fact]
    public void LogJobFailure_ABug_LoggedByTheJobWithItsException()
    {
        var logger = new ListLogger();
        Exception? logged = null;
        var bug = new InvalidOperationException("a bug");

        DatabaseUnavailable.LogJobFailure(logger, bug, "Claiming due deliveries", (_, e) => logged = e);

        logged.ShouldBeSameAs(bug);
        logger.Entries.ShouldBeEmpty();
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
