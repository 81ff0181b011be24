using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Images;
using Apertur.Server.Queues;
using Apertur.Server.Retention;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Storage;

/// <summary>
/// Finds what a crash leaves behind (docs/operations.md "Crash leftovers"): upload temp files a day old (deleted), stored
/// images with no row (a crash between the store and the commit), bytes a failed delete left behind, and rows whose bytes
/// are missing. Each pass costs at most <see cref="MaxPerPass"/> stored images and as many rows, from where the last pass
/// stopped (cursors kept in memory, in the store's key order and in id order), starting over once at the end.
/// <para>
/// What is deleted: an image with no row once it is older than <c>Apertur:Retention:MaxImageAge</c> (no image is kept that
/// long, so it cannot be one still wanted; a younger one is only reported, as a database restored from an older backup
/// has no rows for the newer images, whose only copy it may be), and the bytes of a row marked deleted. A row whose bytes
/// are missing is reported, never changed. An image written less than a day ago is left alone: an upload may be between
/// its put and its commit.
/// </para>
/// </summary>
public sealed partial class OrphanCheck(string tempDirectory, IServiceScopeFactory scopes, IImageStore store, IOptions<RetentionOptions> retention,
    TimeProvider time, ILogger<OrphanCheck> logger) : IDisposable
{
    public const int MaxPerPass = 5000;
    private const int ListPage = 1000;
    private const int MaxIdsLogged = 20;
    private static readonly TimeSpan InFlight = TimeSpan.FromDays(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _storeCursor;
    private Guid? _rowCursor;
    private int _tempFilesRemoved;

    /// <summary>Deletes this replica's stale upload temp files (the rule of the start, one method for both); returns how many.</summary>
    public int SweepTempFiles()
    {
        var removed = LocalDiskImageStore.SweepStaleTempFiles(tempDirectory, time, logger);
        Interlocked.Add(ref _tempFilesRemoved, removed);
        return removed;
    }

    /// <summary>One pass over the next stored images and the next rows; logs one line with the counts, and a warning naming what it found.</summary>
    public async Task<OrphanReport> CheckAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var (filesChecked, orphans, leftovers) = await CheckStoredImagesAsync(db, ct);
            var (rowsChecked, withoutBytes) = await CheckRowsAsync(db, ct);

            var now = time.GetUtcNow();
            var expired = orphans.Where(o => now - o.WrittenAt >= retention.Value.MaxImageAge).Select(o => o.Id).ToList();
            var toDelete = expired.Concat(leftovers).ToList();
            var failed = new HashSet<Guid>();
            await store.RemoveAllAsync(toDelete, (id, e) =>
            {
                failed.Add(id);
                LogDeleteFailed(logger, e, id);
            }, ct);
            var report = new OrphanReport(filesChecked, orphans.Select(o => o.Id).ToList(), toDelete.Where(id => !failed.Contains(id)).ToList(),
                rowsChecked, withoutBytes, Interlocked.Exchange(ref _tempFilesRemoved, 0));

            LogPass(logger, report.FilesChecked, report.RowsChecked, report.OrphanFiles.Count, report.DeletedFiles.Count, report.RowsWithoutBytes.Count,
                report.TempFilesRemoved);
            if (orphans.Count > 0)
            {
                LogOrphans(logger, orphans.Count, Ids(report.OrphanFiles), retention.Value.MaxImageAge);
            }
            if (withoutBytes.Count > 0)
            {
                LogRowsWithoutBytes(logger, withoutBytes.Count, Ids(withoutBytes));
            }
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The next stored images: those with no row (orphans) and those whose row says their bytes are deleted (leftovers).</summary>
    private async Task<(int Checked, List<StoredImage> Orphans, List<Guid> Leftovers)> CheckStoredImagesAsync(AperturDb db, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (count, orphans, leftovers) = (0, new List<StoredImage>(), new List<Guid>());
        for (var pages = 0; pages < MaxPerPass / ListPage; pages++)
        {
            var page = await store.ListAsync(_storeCursor, ListPage, ct);
            _storeCursor = page.Next;
            count += page.Images.Count;
            var ids = page.Images.Select(i => i.Id).ToList();
            var bytesDeleted = await db.Images.Where(i => ids.Contains(i.Id)).Select(i => new { i.Id, Deleted = i.BytesDeletedAt != null })
                .ToDictionaryAsync(i => i.Id, i => i.Deleted, ct);
            foreach (var image in page.Images)
            {
                if (bytesDeleted.TryGetValue(image.Id, out var deleted))
                {
                    if (deleted)
                    {
                        leftovers.Add(image.Id);
                    }
                }
                else if (now - image.WrittenAt >= InFlight)
                {
                    orphans.Add(image);
                }
            }
            if (page.Next is null)
            {
                break;
            }
        }
        return (count, orphans, leftovers);
    }

    /// <summary>The next rows in id order (deleted bytes or not, so a pass reads a bounded number): those whose bytes the store lacks.</summary>
    private async Task<(int Checked, List<Guid> WithoutBytes)> CheckRowsAsync(AperturDb db, CancellationToken ct)
    {
        var cursor = _rowCursor;
        var rows = await db.Images
            .Where(i => cursor == null || i.Id.CompareTo(cursor.Value) > 0)
            .OrderBy(i => i.Id)
            .Select(i => new { i.Id, Kept = i.BytesDeletedAt == null })
            .Take(MaxPerPass)
            .ToListAsync(ct);
        _rowCursor = rows.Count < MaxPerPass ? null : rows[^1].Id;
        var kept = rows.Where(r => r.Kept).Select(r => r.Id).ToList();
        var existing = await store.ExistingAsync(kept, ct);
        var missing = kept.Where(id => !existing.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            // Bytes deleted since the rows were read (retention, a deleted session) are no finding.
            missing = await db.Images.Where(i => missing.Contains(i.Id) && i.BytesDeletedAt == null).Select(i => i.Id).ToListAsync(ct);
        }
        return (rows.Count, missing);
    }

    public void Dispose() => _gate.Dispose();

    private static string Ids(IReadOnlyList<Guid> ids) =>
        string.Join(", ", ids.Take(MaxIdsLogged)) + (ids.Count > MaxIdsLogged ? $" and {ids.Count - MaxIdsLogged} more" : "");

    [LoggerMessage(Level = LogLevel.Information, Message = "Orphan check: {FilesChecked} stored images and {RowsChecked} rows checked; "
        + "{OrphanFiles} images without a row, {DeletedFiles} files deleted, {RowsWithoutBytes} rows without bytes, {TempFilesRemoved} stale temp files removed")]
    private static partial void LogPass(ILogger logger, int filesChecked, int rowsChecked, int orphanFiles, int deletedFiles, int rowsWithoutBytes,
        int tempFilesRemoved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan check: {Count} stored images have no row in the database: {ImageIds}. "
        + "Those older than {MaxImageAge} (Apertur:Retention:MaxImageAge) are deleted; younger ones are kept (a database restored from an older backup lacks their rows)")]
    private static partial void LogOrphans(ILogger logger, int count, string imageIds, TimeSpan maxImageAge);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan check: {Count} images have a row but no bytes in the image store: {ImageIds}. "
        + "Their downloads and deliveries fail; restore the files from a backup (docs/operations.md \"Crash leftovers\")")]
    private static partial void LogRowsWithoutBytes(ILogger logger, int count, string imageIds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan check: image {ImageId} could not be removed from the image store; the next pass tries again")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, Guid imageId);
}

/// <summary>What one pass of the <see cref="OrphanCheck"/> found and did.</summary>
public sealed record OrphanReport(int FilesChecked, IReadOnlyList<Guid> OrphanFiles, IReadOnlyList<Guid> DeletedFiles, int RowsChecked,
    IReadOnlyList<Guid> RowsWithoutBytes, int TempFilesRemoved);

/// <summary>The periodic orphan check (docs/operations.md "Periodic jobs"), every <c>Apertur:Retention:SweepInterval</c>.</summary>
public sealed class OrphanCheckJob(OrphanCheck check, Thumbnails thumbnails, TimeProvider time, IOptions<RetentionOptions> options, IOptions<WorkersOptions> workers,
    IJobLock jobs, ILogger<OrphanCheckJob> logger)
    : PeriodicJob(Jobs.OrphanCheck, "Orphan check", time, workers, jobs, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    /// <summary>This replica's own files: stale temp files, and thumbnails of images deleted (by any replica) or gone.</summary>
    protected override async Task RunOnThisReplicaAsync(CancellationToken ct)
    {
        check.SweepTempFiles();
        await thumbnails.SweepAsync(ct);
    }

    protected override Task RunPassAsync(CancellationToken ct) => check.CheckAsync(ct);
}
