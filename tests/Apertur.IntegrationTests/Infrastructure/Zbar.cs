using System.Diagnostics;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>Decodes a QR code image with <c>zbarimg</c> (Debian zbar-tools, installed by scripts/services.sh).</summary>
public static class Zbar
{
    /// <summary>The decoded text, or null when zbarimg finds no code.</summary>
    public static async Task<string?> DecodeAsync(byte[] image, string extension = ".png")
    {
        var file = Path.Combine(Path.GetTempPath(), $"apertur-qr-{Guid.NewGuid():N}{extension}");
        await File.WriteAllBytesAsync(file, image);
        try
        {
            var start = new ProcessStartInfo("zbarimg") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "--raw", "-q", file })
            {
                start.ArgumentList.Add(arg);
            }
            using var process = StartOrExplain(start);
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            // zbarimg exits 4 when the image holds no code; anything else non-zero is a broken file or a missing tool.
            return process.ExitCode switch
            {
                0 => (await output).TrimEnd('\n'),
                4 => null,
                _ => throw new InvalidOperationException($"zbarimg exited {process.ExitCode}: {await error}"),
            };
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Process StartOrExplain(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("zbarimg did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("zbarimg is missing: run scripts/services.sh start tools (installs zbar-tools).", e);
        }
    }
}
