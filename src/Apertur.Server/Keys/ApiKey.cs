namespace Apertur.Server.Keys;

/// <summary>An API key. Only the SHA-256 of the plain key is stored.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Env { get; set; }
    public required string Prefix { get; set; }
    public required byte[] KeyHash { get; set; }
    public required string Label { get; set; }
    public bool IsActive { get; set; } = true;
    public DateTimeOffset? LastUsedAt { get; set; }
    public int? MaxImages { get; set; }
    public string[] AllowedMimeTypes { get; set; } = [];
    public int? MaxImageDimension { get; set; }
    public bool LongPollingEnabled { get; set; }
    public string[] DefaultDestinations { get; set; } = [];
    public string[] AllowedIps { get; set; } = [];
    public string[] AllowedDomains { get; set; } = [];
    public string? SigningSecret { get; set; }
    public bool SigningRequired { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
