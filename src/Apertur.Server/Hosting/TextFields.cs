namespace Apertur.Server.Hosting;

/// <summary>Free-text fields a person types (a project's or destination's name, a key's label): trimmed and bounded.</summary>
public static class TextFields
{
    /// <summary>The trimmed text, or 400 with <paramref name="message"/> when it is empty or longer than <paramref name="maxLength"/>.</summary>
    public static string Required(string? text, int maxLength, string message)
    {
        var trimmed = text?.Trim();
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > maxLength ? throw ApiException.BadRequest(message) : trimmed;
    }
}
