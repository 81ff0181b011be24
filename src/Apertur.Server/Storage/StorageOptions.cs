using Apertur.Server.Hosting;

namespace Apertur.Server.Storage;

public enum StorageKind
{
    Local,
    S3,
}

/// <summary>
/// Settings section <c>Apertur:Storage</c>: where image bytes live (docs/deploy.md "Image store on S3"). Read before the
/// container exists (the kind decides which store is registered), checked the ISettings way.
/// </summary>
public sealed class StorageOptions : ISettings
{
    public const string Section = "Apertur:Storage";

    /// <summary><c>local</c> (default): files under <c>{DataDirectory}/images</c>; <c>s3</c>: objects in a bucket.</summary>
    public StorageKind Kind { get; set; } = StorageKind.Local;

    public S3StorageOptions S3 { get; set; } = new();

    /// <summary>
    /// Uploads are refused (507 <c>INSUFFICIENT_STORAGE</c>) when the filesystem of the upload temp files (and, for the local
    /// store, of the images) has less than this free, counting the upload's declared size (docs/deploy.md "A full disk").
    /// Default 1 GiB; 0 turns the check off.
    /// </summary>
    public long MinFreeBytes { get; set; } = DefaultMinFreeBytes;

    public const long DefaultMinFreeBytes = 1L << 30;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MinFreeBytes < 0)
        {
            problems.Add($"{Section}:{nameof(MinFreeBytes)} must not be negative (got {MinFreeBytes}); 0 turns the free-space check off.");
        }
        if (Kind == StorageKind.S3)
        {
            problems.AddRange(S3.Problems());
        }
        return problems;
    }
}

/// <summary>Settings section <c>Apertur:Storage:S3</c>, used when <c>Apertur:Storage:Kind</c> is <c>s3</c>.</summary>
public sealed class S3StorageOptions
{
    public const string Section = StorageOptions.Section + ":S3";

    /// <summary>An S3-compatible endpoint (MinIO, R2…); empty for AWS itself (then <see cref="Region"/> is required).</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    public string? Region { get; set; }

    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    /// <summary>Bucket in the path rather than the host name; usual for S3-compatible endpoints.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Put before every object key, e.g. <c>apertur/</c>; empty by default.</summary>
    public string Prefix { get; set; } = "";

    public Uri? ServiceUri => Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>Where the bucket is, for messages: the service URL or AWS's regional endpoint.</summary>
    public string EndpointText => ServiceUri?.AbsoluteUri.TrimEnd('/') ?? $"s3.{Region}.amazonaws.com";

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            problems.Add($"{Section}:{nameof(Bucket)} is required when {StorageOptions.Section}:Kind is s3.");
        }
        if (!string.IsNullOrWhiteSpace(ServiceUrl) && ServiceUri is not { Scheme: "http" or "https" })
        {
            problems.Add($"{Section}:{nameof(ServiceUrl)} must be an http or https URL (got '{ServiceUrl}').");
        }
        if (string.IsNullOrWhiteSpace(ServiceUrl) && string.IsNullOrWhiteSpace(Region))
        {
            problems.Add($"{Section}:{nameof(Region)} is required when {Section}:{nameof(ServiceUrl)} is empty (AWS S3).");
        }
        if (string.IsNullOrWhiteSpace(AccessKeyId) != string.IsNullOrWhiteSpace(SecretAccessKey))
        {
            problems.Add($"{Section}:{nameof(AccessKeyId)} and {Section}:{nameof(SecretAccessKey)} go together: set both or neither.");
        }
        if (Prefix.StartsWith('/'))
        {
            problems.Add($"{Section}:{nameof(Prefix)} must not start with '/' (got '{Prefix}').");
        }
        return problems;
    }
}
