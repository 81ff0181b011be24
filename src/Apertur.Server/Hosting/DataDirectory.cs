using System.Runtime.InteropServices;

namespace Apertur.Server.Hosting;

/// <summary>
/// The data directory (<c>Apertur:DataDirectory</c>) is the server's alone: the directory is 0700 and what the server
/// writes in it (the SQLite database with its -wal and -shm files, images and their shard directories, upload temp files,
/// <c>master.key</c>) is 0600 or 0700. On Unix the process umask is set to 077 before anything is created, so files that
/// SQLite or a library create are owner-only too; a data directory left readable by an earlier version is tightened at
/// start: the directory and the files and folders the server keeps at its root, not every image (they sit inside a
/// 0700 directory).
/// </summary>
public static class DataDirectory
{
    /// <summary>rwx------: what new directories of the data directory get.</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw-------: what new files of the data directory get.</summary>
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupAndOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    // Octal 077: no permission for group and others on anything this process creates.
    private const uint OwnerOnlyUmask = 0x3F;

    /// <summary>What the server keeps at the root of the data directory; other entries are left as they are.</summary>
    private static readonly string[] ServerEntries =
        ["apertur.db", "apertur.db-wal", "apertur.db-shm", "apertur.db-journal", "master.key", "images", "tmp"];

    /// <summary>Sets the umask (Unix), creates the directory owner-only, and tightens it and the server's entries in it.</summary>
    public static void Secure(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        SetOwnerOnlyUmask();
        Directory.CreateDirectory(path, OwnerOnlyDirectory);
        Tighten(new DirectoryInfo(path));
        foreach (var name in ServerEntries)
        {
            var entry = Path.Combine(path, name);
            FileSystemInfo info = Directory.Exists(entry) ? new DirectoryInfo(entry) : new FileInfo(entry);
            if (info.Exists && info.LinkTarget is null)
            {
                Tighten(info);
            }
        }
    }

    /// <summary>Creates a directory of the data directory (0700 on Unix); an existing one is left as it is.</summary>
    public static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    /// <summary>Options of a new file of the data directory: created by this call only, 0600 on Unix.</summary>
    public static FileStreamOptions NewFile(FileAccess access, FileShare share = FileShare.None, int bufferSize = 4096,
        FileOptions options = FileOptions.None)
    {
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = access, Share = share, BufferSize = bufferSize, Options = options };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = OwnerOnlyFile;
        }
        return file;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Tighten(FileSystemInfo info)
    {
        var mode = info.UnixFileMode;
        if ((mode & GroupAndOthers) != 0)
        {
            info.UnixFileMode = mode & ~GroupAndOthers;
        }
    }

    private static void SetOwnerOnlyUmask()
    {
        // glibc's file name first; musl and the BSDs answer to plain "libc". Without either, the explicit modes still hold.
        try
        {
            _ = UmaskGlibc(OwnerOnlyUmask);
        }
        catch (DllNotFoundException)
        {
            try
            {
                _ = Umask(OwnerOnlyUmask);
            }
            catch (DllNotFoundException)
            {
            }
        }
    }

    // umask(2) cannot fail; it returns the previous mask. DllImport rather than LibraryImport: a blittable call needs no
    // generated marshalling, and LibraryImport would make the whole server project allow unsafe code.
    [DllImport("libc.so.6", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint UmaskGlibc(uint mask);

    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint Umask(uint mask);
}
