namespace Apertur.Destinations.Storage;

/// <summary>
/// How storage adapters cut an image: one request up to <see cref="SinglePutLimit"/> bytes, above it parts (S3) or blocks
/// (Azure) of exactly <see cref="PartSize"/> bytes, the last one smaller. Equal parts satisfy every S3-compatible store,
/// Cloudflare R2's rule included (all parts but the last the same size), and S3's 5 MiB minimum part.
/// </summary>
public sealed record StorageTuning(long SinglePutLimit, long PartSize)
{
    public const long MiB = 1024 * 1024;

    /// <summary>Up to 8 MiB in one request; larger images in 8 MiB parts (a 20 MiB image is 8 + 8 + 4 MiB).</summary>
    public static readonly StorageTuning Default = new(8 * MiB, 8 * MiB);

    public bool IsMultipart(long size) => size > SinglePutLimit;

    /// <summary>The lengths of the parts of an image of <paramref name="size"/> bytes: all <see cref="PartSize"/> but the last.</summary>
    public IReadOnlyList<long> Parts(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var parts = new List<long>();
        for (var offset = 0L; offset < size; offset += PartSize)
        {
            parts.Add(Math.Min(PartSize, size - offset));
        }
        return parts;
    }
}
