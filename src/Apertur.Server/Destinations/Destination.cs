namespace Apertur.Server.Destinations;

/// <summary>Where a project's images are delivered. Config is JSON; secrets in it are encrypted at rest.</summary>
public sealed class Destination
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public string Config { get; set; } = "{}";
    public bool IsActive { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
