namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// A real small filesystem: a tmpfs of a few megabytes mounted on a fresh directory under the temp directory, so a test
/// can fill it for real (ENOSPC from the kernel, statvfs figures the server reads). Mounting needs root, as CI runs the
/// tests: without it the test fails saying so, it does not skip. Unmounted (lazily) at dispose.
/// </summary>
public sealed class SmallFilesystem : IAsyncDisposable
{
    private const int Megabyte = 1024 * 1024;

    private SmallFilesystem(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>What a non-root process could write here now (statvfs).</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public static async Task<SmallFilesystem> MountAsync(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "apertur-tests", "fs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        try
        {
            await Command.RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Directory.Delete(path);
            throw new InvalidOperationException(
                $"Could not mount a {megabytes} MB tmpfs on {path}: the full-disk tests need a real small filesystem, so they run as root (as CI does). {e.Message}", e);
        }
        var filesystem = new SmallFilesystem(path);
        if (new DriveInfo(path).DriveFormat != "tmpfs")
        {
            await filesystem.DisposeAsync();
            throw new InvalidOperationException($"{path} is not the tmpfs just mounted there.");
        }
        return filesystem;
    }

    /// <summary>Writes one filler file (real pages, not a sparse file) until about <paramref name="leaveFree"/> bytes are left.</summary>
    public void Fill(long leaveFree)
    {
        using var file = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[Megabyte];
        Array.Fill(chunk, (byte)0xA5);
        for (var left = FreeBytes - leaveFree; left > 0; left -= chunk.Length)
        {
            file.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
        }
    }

    /// <summary>Deletes the filler: the space is back.</summary>
    public void Free() => File.Delete(Filler);

    public async ValueTask DisposeAsync()
    {
        await Command.RunAsync("umount", "-l", Path);
        try
        {
            Directory.Delete(Path);
        }
        catch (IOException)
        {
            // Still busy: the temp directory is cleaned by the OS.
        }
    }
}
