namespace Apertur.Server.Storage;

/// <summary>What <see cref="FreeSpace"/> read: the free bytes of the fullest filesystem uploads are written to, and a directory on it.</summary>
public sealed record FreeSpaceReading(string Directory, long FreeBytes);

/// <summary>
/// The free space where uploads are written (docs/deploy.md "A full disk"): the temp directory, and for the local store the
/// images directory too (the smaller figure when they are on different filesystems). Uploads are refused before their body
/// is read while it is below <c>Apertur:Storage:MinFreeBytes</c>, and the dashboard shows a warning. A reading is kept a
/// second, so the check costs nothing per upload under load. <see cref="DriveInfo"/> on a path asks statvfs about the
/// filesystem that holds the path (a tmpfs or a mount under the data directory included), not about the root.
/// </summary>
public sealed class FreeSpace(StorageOptions options, IReadOnlyList<string> directories, TimeProvider time)
{
    private static readonly TimeSpan KeepReading = TimeSpan.FromSeconds(1);

    // Swapped whole: a request reads either the old reading or the new one, never half of each.
    private volatile Kept? _last;

    /// <summary><c>Apertur:Storage:MinFreeBytes</c>; 0 when the check is off.</summary>
    public long MinFreeBytes => options.MinFreeBytes;

    /// <summary>The free space now (read at most once a second); null when it cannot be read.</summary>
    public FreeSpaceReading? Read()
    {
        if (_last is { } kept && time.GetElapsedTime(kept.At) < KeepReading)
        {
            return kept.Reading;
        }
        var reading = ReadNow();
        _last = new Kept(reading, time.GetTimestamp());
        return reading;
    }

    /// <summary>The reading when the free space is below the minimum (what the dashboard warns of); null when there is room or the check is off.</summary>
    public FreeSpaceReading? Low() => MinFreeBytes > 0 && Read() is { } reading && reading.FreeBytes < MinFreeBytes ? reading : null;

    /// <summary>
    /// Throws 507 <c>INSUFFICIENT_STORAGE</c> (<see cref="StorageFull.Answer"/>) when writing <paramref name="declaredBytes"/>
    /// (the upload's Content-Length, when sent) would leave less than the minimum free. Nothing when the check is off.
    /// </summary>
    public void RequireRoomFor(long? declaredBytes)
    {
        if (MinFreeBytes > 0 && Read() is { } reading && reading.FreeBytes - (declaredBytes ?? 0) < MinFreeBytes)
        {
            throw StorageFull.Answer();
        }
    }

    private FreeSpaceReading? ReadNow()
    {
        FreeSpaceReading? least = null;
        foreach (var directory in directories)
        {
            try
            {
                var free = new DriveInfo(Existing(directory)).AvailableFreeSpace;
                if (least is null || free < least.FreeBytes)
                {
                    least = new FreeSpaceReading(directory, free);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Unreadable: no figure rather than a refusal; a write that really fails still answers 507.
            }
        }
        return least;
    }

    private sealed record Kept(FreeSpaceReading? Reading, long At);

    // The store creates its directories when it is first used; until then the nearest existing parent is on the same filesystem.
    private static string Existing(string directory)
    {
        var path = Path.GetFullPath(directory);
        while (!System.IO.Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            path = parent;
        }
        return path;
    }
}
