namespace Apertur.Server.Hosting;

/// <summary>Ids are time-ordered UUID v7 strings (docs/api.md "Conventions"), stamped from the injected clock.</summary>
public static class Ids
{
    public static Guid New(TimeProvider time) => Guid.CreateVersion7(time.GetUtcNow());

    /// <summary>Parses an id from a URL; anything that is not a UUID is simply "not found".</summary>
    public static Guid ParseOrNotFound(string value, string what) =>
        Guid.TryParse(value, out var id) ? id : throw ApiException.NotFound($"{what} not found.", $"{what.ToUpperInvariant().Replace(' ', '_')}_NOT_FOUND");
}
