using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.Destinations.Paths;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.S3;

/// <summary>
/// An <c>s3</c> destination's config: <c>bucket</c>, <c>region</c>, <c>access_key_id</c>, <c>secret_access_key</c>, optional
/// <c>session_token</c>, <c>key_template</c>, <c>endpoint</c> and <c>force_path_style</c> (S3-compatible stores),
/// <c>storage_class</c>, <c>server_side_encryption</c> (<c>AES256</c>, <c>aws:kms</c>, <c>aws:kms:dsse</c>) and <c>sse_kms_key_id</c>.
/// With an <c>endpoint</c>, <c>region</c> may be left out (<c>us-east-1</c>, what MinIO and most stores expect) and
/// path-style addressing is the default, since self-hosted stores rarely have wildcard DNS.
/// </summary>
public sealed partial record S3Config(
    string Bucket,
    string Region,
    string AccessKeyId,
    string SecretAccessKey,
    string? SessionToken,
    string KeyTemplate,
    Uri? Endpoint,
    bool ForcePathStyle,
    string? StorageClass,
    string? ServerSideEncryption,
    string? KmsKeyId) : IDestinationConfig<S3Config>
{
    public const string DefaultKeyTemplate = "uploads/{session_id}/{image_index}.{ext}";
    public const string DefaultCompatibleRegion = "us-east-1";

    public static readonly IReadOnlyList<string> EncryptionNames = ["AES256", "aws:kms", "aws:kms:dsse"];

    /// <summary>Parses the config; on failure <paramref name="problems"/> says, in words, what to fix.</summary>
    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out S3Config? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var read = new StorageConfigReader(config, "config must be a JSON object with bucket, region, access_key_id and secret_access_key.");
        problems = read.Problems;
        if (!read.IsObject)
        {
            return false;
        }

        var bucket = read.RequiredText("bucket", "the bucket's name");
        if (bucket is not null && !BucketName().IsMatch(bucket))
        {
            read.Problem($"config.bucket '{bucket}' is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.");
        }
        var endpoint = read.HttpUrl("endpoint");
        var region = endpoint is null ? read.RequiredText("region", "the bucket's AWS region, e.g. eu-west-1") : read.OptionalText("region");
        if (region is not null && !RegionName().IsMatch(region))
        {
            read.Problem($"config.region '{region}' is not a region name (e.g. eu-west-1, or auto for Cloudflare R2).");
        }
        var accessKey = read.RequiredText("access_key_id", "the access key id");
        var secret = read.RequiredText("secret_access_key", "the secret access key");
        var sessionToken = read.OptionalText("session_token");
        var template = read.Template("key_template", DefaultKeyTemplate);
        var pathStyle = read.OptionalBool("force_path_style") ?? endpoint is not null;

        var storageClass = read.OptionalText("storage_class")?.ToUpperInvariant();
        if (storageClass is not null && !StorageClassName().IsMatch(storageClass))
        {
            read.Problem($"config.storage_class '{storageClass}' is not a storage class name (e.g. STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR).");
        }
        var encryption = read.OptionalText("server_side_encryption");
        if (encryption is not null)
        {
            var known = EncryptionNames.FirstOrDefault(n => string.Equals(n, encryption, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                read.Problem($"config.server_side_encryption must be one of {string.Join(", ", EncryptionNames)} (got '{encryption}').");
            }
            encryption = known;
        }
        var kmsKey = read.OptionalText("sse_kms_key_id");
        if (kmsKey is not null && encryption is not ("aws:kms" or "aws:kms:dsse"))
        {
            read.Problem("config.sse_kms_key_id needs config.server_side_encryption aws:kms or aws:kms:dsse.");
        }

        if (read.Problems.Count > 0 || bucket is null || accessKey is null || secret is null || template is null)
        {
            return false;
        }
        parsed = new S3Config(bucket, region ?? DefaultCompatibleRegion, accessKey, secret, sessionToken, template, endpoint, pathStyle,
            storageClass, encryption, kmsKey);
        return true;
    }

    /// <summary>Where an object lands, as the delivery log shows it.</summary>
    public string Describe(string key) => $"s3://{Bucket}/{key}";

    /// <summary>The endpoint as a person reads it: the configured URL or AWS's regional one.</summary>
    public string EndpointText => Endpoint?.GetLeftPart(UriPartial.Authority) ?? $"s3.{Region}.amazonaws.com";

    /// <summary>Never shows the secret: records print their members.</summary>
    public override string ToString() => $"S3Config {{ Bucket = {Bucket}, Region = {Region}, Endpoint = {EndpointText} }}";

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,40}$")]
    private static partial Regex RegionName();

    [GeneratedRegex("^[A-Z0-9_]{1,40}$")]
    private static partial Regex StorageClassName();
}
