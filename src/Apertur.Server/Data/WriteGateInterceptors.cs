using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Apertur.Server.Data;

/// <summary>
/// Applies the <see cref="WriteGate"/> rule to every EF Core write on SQLite, so no caller can forget it
/// (docs/architecture.md, Seams, "WriteGate"). Registered in <c>Data/DataServices.cs</c> for SQLite only:
/// <list type="bullet">
/// <item><see cref="GatedSqliteConnection"/>: a transaction (<c>BeginTransaction</c>, and the one <c>SaveChanges</c> opens
/// for several statements) takes the gate just before its <c>BEGIN IMMEDIATE</c>, once the transaction interceptors have
/// let it start (EF Core's interceptors cannot be ordered, and one after ours could refuse a start ours had already taken
/// the gate for); a begin that fails gives it back;</item>
/// <item><see cref="GatedTransactionFactory"/>: the transaction gives it back when it ends — committed, rolled back, or
/// disposed without either (EF Core's interceptors have no hook for that last one; <c>RelationalTransaction</c> clears
/// itself on each of the three);</item>
/// <item><see cref="Commands"/>: a write outside a transaction (<c>ExecuteUpdate</c>, <c>ExecuteDelete</c>, a
/// one-statement <c>SaveChanges</c>, raw SQL) holds it for its statement, until its reader is disposed or it fails.</item>
/// </list>
/// </summary>
public static class WriteGateInterceptors
{
    // The gate each open transaction or running command holds, by ADO.NET object; released at most once.
    private static readonly ConditionalWeakTable<object, Hold> Holds = new();

    /// <summary>The interceptor, connection and transaction factory of <paramref name="gate"/> on these options.</summary>
#pragma warning disable EF1001 // See GatedSqliteConnection.
    public static DbContextOptionsBuilder UseWriteGate(this DbContextOptionsBuilder options, WriteGate gate) =>
        options.AddInterceptors(new Commands(gate))
            .ReplaceService<Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.ISqliteRelationalConnection, GatedSqliteConnection>()
            .ReplaceService<IRelationalTransactionFactory, GatedTransactionFactory>();
#pragma warning restore EF1001

    private static void Release(object key)
    {
        if (Holds.TryGetValue(key, out var hold))
        {
            Holds.Remove(key);
            hold.Release();
        }
    }

    private sealed class Hold(WriteGate.Held held)
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                held.Dispose();
            }
        }
    }

    /// <summary>
    /// EF Core's SQLite connection, taking the gate where EF Core begins a transaction: after every transaction
    /// interceptor has agreed to the start (one that refuses it leaves nothing taken), just before <c>BEGIN IMMEDIATE</c>;
    /// a begin that fails gives it back.
    /// </summary>
#pragma warning disable EF1001 // SqliteRelationalConnection is EF Core's internal API: the one place that begins every transaction.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1812", Justification = "Created by EF Core through ReplaceService.")]
    internal sealed class GatedSqliteConnection(RelationalConnectionDependencies dependencies, IRawSqlCommandBuilder rawSqlCommandBuilder,
        IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
        : Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
#pragma warning restore EF1001
    {
        private readonly WriteGate _gate = dependencies.ContextOptions.FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<Commands>()
            .FirstOrDefault()?.Gate ?? throw new InvalidOperationException("The SQLite write gate is not configured (Data/DataServices.cs).");

        protected override DbTransaction ConnectionBeginTransaction(IsolationLevel isolationLevel)
        {
            var held = _gate.Enter();
            try
            {
                var transaction = base.ConnectionBeginTransaction(isolationLevel);
                Holds.Add(transaction, new Hold(held));
                return transaction;
            }
            catch
            {
                held.Dispose();
                throw;
            }
        }

        protected override async ValueTask<DbTransaction> ConnectionBeginTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken = default)
        {
            var held = await _gate.EnterAsync(cancellationToken);
            try
            {
                var transaction = await base.ConnectionBeginTransactionAsync(isolationLevel, cancellationToken);
                Holds.Add(transaction, new Hold(held));
                return transaction;
            }
            catch
            {
                held.Dispose();
                throw;
            }
        }
    }

    /// <summary>A <see cref="RelationalTransaction"/> that gives the gate back when it ends, however it ends.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1812", Justification = "Created by EF Core through ReplaceService.")]
    internal sealed class GatedTransactionFactory(RelationalTransactionFactoryDependencies dependencies) : RelationalTransactionFactory(dependencies)
    {
        public override RelationalTransaction Create(IRelationalConnection connection, DbTransaction transaction, Guid transactionId,
            IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger, bool transactionOwned) =>
            new GatedTransaction(connection, transaction, transactionId, logger, transactionOwned, Dependencies.SqlGenerationHelper);
    }

    private sealed class GatedTransaction(IRelationalConnection connection, DbTransaction dbTransaction, Guid transactionId,
        IDiagnosticsLogger<DbLoggerCategory.Database.Transaction> logger, bool transactionOwned, ISqlGenerationHelper sql)
        : RelationalTransaction(connection, dbTransaction, transactionId, logger, transactionOwned, sql)
    {
        // Called after a commit, after a rollback, and on dispose.
        protected override void ClearTransaction()
        {
            try
            {
                base.ClearTransaction();
            }
            finally
            {
                Release(this.GetDbTransaction());
            }
        }

        protected override async Task ClearTransactionAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                await base.ClearTransactionAsync(cancellationToken);
            }
            finally
            {
                Release(this.GetDbTransaction());
            }
        }

        public override void Dispose()
        {
            try
            {
                base.Dispose();
            }
            finally
            {
                Release(this.GetDbTransaction());
            }
        }

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await base.DisposeAsync();
            }
            finally
            {
                Release(this.GetDbTransaction());
            }
        }
    }

    /// <summary>Holds the gate around a write statement that runs outside a transaction.</summary>
    public sealed class Commands(WriteGate gate) : DbCommandInterceptor
    {
        /// <summary>The gate, also read by <see cref="GatedSqliteConnection"/> from the options it is registered in.</summary>
        public WriteGate Gate => gate;

        private static bool IsLoneWrite(DbCommand command, CommandEventData eventData) =>
            command.Transaction is null
            && eventData.CommandSource is CommandSource.SaveChanges or CommandSource.ExecuteUpdate or CommandSource.ExecuteDelete
                or CommandSource.ExecuteSqlRaw;

        private void Enter(DbCommand command, CommandEventData eventData)
        {
            if (IsLoneWrite(command, eventData))
            {
                var held = gate.Enter();
                Release(command);
                Holds.Add(command, new Hold(held));
            }
        }

        private async ValueTask EnterAsync(DbCommand command, CommandEventData eventData, CancellationToken ct)
        {
            if (IsLoneWrite(command, eventData))
            {
                var held = await gate.EnterAsync(ct);
                Release(command);
                Holds.Add(command, new Hold(held));
            }
        }

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        {
            Enter(command, eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            await EnterAsync(command, eventData, cancellationToken);
            return result;
        }

        public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
        {
            Release(command);
            return result;
        }

        public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result,
            CancellationToken cancellationToken = default)
        {
            Release(command);
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
        {
            Enter(command, eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            await EnterAsync(command, eventData, cancellationToken);
            return result;
        }

        public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
        {
            Release(command);
            return result;
        }

        public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result,
            CancellationToken cancellationToken = default)
        {
            Release(command);
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Enter(command, eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            await EnterAsync(command, eventData, cancellationToken);
            return result;
        }

        // A statement that returns rows (INSERT … RETURNING) finishes, and SQLite commits it, when its reader goes.
        public override InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
        {
            Release(command);
            return result;
        }

        public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) => Release(command);

        public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
        {
            Release(command);
            return Task.CompletedTask;
        }

        public override void CommandCanceled(DbCommand command, CommandEndEventData eventData) => Release(command);

        public override Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Release(command);
            return Task.CompletedTask;
        }
    }
}
