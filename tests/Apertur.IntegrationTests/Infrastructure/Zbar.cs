using System.Diagnostics;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// Decodes a QR code image with <c>zbarimg</c> (Debian zbar-tools); SVG is first rasterised with <c>rsvg-convert</c>
/// (Debian librsvg2-bin). Both are installed by <c>scripts/services.sh start tools</c>.
/// </summary>
public static class Zbar
{
    /// <summary>The text of an SVG QR code, once librsvg has rasterised it to PNG.</summary>
    public static async Task<string?> DecodeSvgAsync(string svg)
    {
        var file = Path.Combine(Path.GetTempPath(), $"apertur-qr-{Guid.NewGuid():N}.svg");
        await File.WriteAllTextAsync(file, svg);
        try
        {
            var (code, png, error) = await RunAsync("rsvg-convert", "--format", "png", file);
            return code == 0 ? await DecodeAsync(png) : throw new InvalidOperationException($"rsvg-convert exited {code}: {error}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The decoded text, or null when zbarimg finds no code.</summary>
    public static async Task<string?> DecodeAsync(byte[] image, string extension = ".png")
    {
        var file = Path.Combine(Path.GetTempPath(), $"apertur-qr-{Guid.NewGuid():N}{extension}");
        await File.WriteAllBytesAsync(file, image);
        try
        {
            var (code, output, error) = await RunAsync("zbarimg", "--raw", "-q", file);
            // zbarimg exits 4 when the image holds no code; anything else non-zero is a broken file.
            return code switch
            {
                0 => System.Text.Encoding.UTF8.GetString(output).TrimEnd('\n'),
                4 => null,
                _ => throw new InvalidOperationException($"zbarimg exited {code}: {error}"),
            };
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<(int ExitCode, byte[] Output, string Error)> RunAsync(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is missing: run scripts/services.sh start tools.", e);
        }
        using (process)
        {
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
            var error = process.StandardError.ReadToEndAsync();
            await Task.WhenAll(copy, error, process.WaitForExitAsync());
            return (process.ExitCode, output.ToArray(), await error);
        }
    }
}
