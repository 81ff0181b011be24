using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Apertur.Server.Hosting;

namespace Apertur.Server.Encryption;

/// <summary>The envelope's small fields, and how many bytes of <c>encryptedData</c> went to the sink.</summary>
public sealed class StreamedEnvelope
{
    public string? EncryptedKey { get; set; }
    public string? Iv { get; set; }
    public string? Algorithm { get; set; }
    public long DataBytes { get; set; }
    public bool HasData { get; set; }

    /// <summary>Other top-level string fields (filename, source, …) by name; the first of each name wins.</summary>
    public Dictionary<string, string> Texts { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Reads an encrypted envelope (a JSON object, docs/architecture.md "How an upload flows") from a stream without holding it
/// whole: <c>encryptedData</c> is base64-decoded as it arrives into a sink and counted, so an envelope over the size limit
/// is refused as soon as its data passes the limit, like a plain upload. The other fields are small and read with
/// <see cref="Utf8JsonReader"/>; any one of them larger than the read buffer is refused.
/// </summary>
public static class EnvelopeReader
{
    private const int BufferSize = 81920;
    // Reads are small so that an envelope over the limit is refused within a few KB of it.
    private const int ReadSize = 16384;
    private const int Base64Chunk = 16384;
    // Room kept in front of the buffered bytes to put back a stand-in value ':""' for the data string the reader skipped.
    private const int Headroom = 3;
    private static readonly string[] DataNames = ["encryptedData", "encrypted_data"];

    private enum Step { NeedMore, DataStart, Done }

    /// <summary>
    /// Reads the envelope from <paramref name="body"/>, writing the decoded <c>encryptedData</c> to <paramref name="data"/>;
    /// throws <paramref name="tooLarge"/> once more than <paramref name="maxDataBytes"/> are decoded, 400 <c>INVALID_ENVELOPE</c>
    /// for a body that is not an envelope.
    /// </summary>
    public static async Task<StreamedEnvelope> ReadAsync(Stream body, Stream data, long maxDataBytes, Func<ApiException> tooLarge,
        Func<Func<Task<int>>, Task<int>> fromClient, CancellationToken ct)
    {
        var envelope = new StreamedEnvelope();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize + Headroom);
        var decoder = new DataDecoder(data, maxDataBytes, tooLarge);
        try
        {
            int start = Headroom, end = Headroom;
            var final = false;
            var state = new JsonReaderState();
            var inData = false;
            var resumeState = default(JsonReaderState);
            var colonRead = false;
            string? property = null;
            while (true)
            {
                if (inData)
                {
                    var used = decoder.Scan(buffer.AsSpan(start, end - start), final, out var closed);
                    start += used;
                    if (closed)
                    {
                        // Back to the reader as if the value had been the empty string.
                        inData = false;
                        var standIn = colonRead ? "\"\""u8 : ":\"\""u8;
                        start -= standIn.Length;
                        standIn.CopyTo(buffer.AsSpan(start));
                        state = resumeState;
                        envelope.DataBytes = decoder.Total;
                        continue;
                    }
                }
                else
                {
                    var step = ReadTokens(buffer.AsSpan(start, end - start), final, ref state, ref property, envelope, out var used);
                    start += used;
                    if (step == Step.Done)
                    {
                        return envelope;
                    }
                    if (step == Step.DataStart)
                    {
                        // Whether the reader took the name's ':' with it depends on what had arrived.
                        colonRead = buffer.AsSpan(Headroom, start - Headroom).TrimEnd(" \t\r\n"u8).EndsWith(":"u8);
                        resumeState = state;
                        inData = true;
                        envelope.HasData = true;
                        continue;
                    }
                }
                if (final)
                {
                    throw EnvelopeDecryptor.InvalidEnvelope("The encrypted upload ended before its JSON envelope did.");
                }
                if (start == Headroom && end == buffer.Length)
                {
                    throw EnvelopeDecryptor.InvalidEnvelope("A field of the encrypted envelope is too large.");
                }
                buffer.AsSpan(start, end - start).CopyTo(buffer.AsSpan(Headroom));
                end = Headroom + end - start;
                start = Headroom;
                var read = await fromClient(() => body.ReadAsync(buffer.AsMemory(end, Math.Min(ReadSize, buffer.Length - end)), ct).AsTask());
                end += read;
                final = read == 0;
            }
        }
        catch (JsonException)
        {
            throw EnvelopeDecryptor.InvalidEnvelope("The encrypted upload is not a valid JSON envelope {encryptedKey, iv, encryptedData, algorithm}.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Step ReadTokens(ReadOnlySpan<byte> bytes, bool final, ref JsonReaderState state, ref string? property,
        StreamedEnvelope envelope, out int consumed)
    {
        var reader = new Utf8JsonReader(bytes, final, state);
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0)
                {
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        return Step.Done;
                    }
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw EnvelopeDecryptor.InvalidEnvelope("The encrypted upload must be a JSON object {encryptedKey, iv, encryptedData, algorithm}.");
                    }
                    continue;
                }
                if (reader.CurrentDepth != 1)
                {
                    continue;
                }
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    property = reader.GetString();
                    if (!envelope.HasData && DataNames.Contains(property))
                    {
                        return Step.DataStart;
                    }
                    continue;
                }
                if (property is null or "encryptedData" or "encrypted_data" || reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    continue;
                }
                var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                switch (property)
                {
                    case "encryptedKey" or "encrypted_key":
                        envelope.EncryptedKey ??= Required(text, reader.TokenType, "encryptedKey");
                        break;
                    case "iv":
                        envelope.Iv ??= Required(text, reader.TokenType, "iv");
                        break;
                    case "algorithm":
                        envelope.Algorithm ??= Required(text, reader.TokenType, "algorithm");
                        break;
                    default:
                        if (text is not null)
                        {
                            envelope.Texts.TryAdd(property, text);
                        }
                        break;
                }
            }
            return Step.NeedMore;
        }
        finally
        {
            consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
        }
    }

    // A string, or null for JSON null; anything else is not an envelope field.
    private static string? Required(string? text, JsonTokenType type, string field) =>
        text is not null || type == JsonTokenType.Null ? text : throw EnvelopeDecryptor.InvalidEnvelope($"The envelope field '{field}' must be a base64 string.");

    /// <summary>The JSON string of <c>encryptedData</c>, from after its name to its closing quote, decoded into the sink.</summary>
    private sealed class DataDecoder(Stream sink, long maxBytes, Func<ApiException> tooLarge)
    {
        private readonly byte[] _base64 = new byte[Base64Chunk];
        private readonly byte[] _decoded = new byte[Base64Chunk / 4 * 3];
        private int _pending;
        private bool _opened;

        public long Total { get; private set; }

        /// <summary>Consumes what it can of <paramref name="bytes"/>; an escape cut by the buffer's end waits for more.</summary>
        public int Scan(ReadOnlySpan<byte> bytes, bool final, out bool closed)
        {
            closed = false;
            var i = 0;
            while (i < bytes.Length)
            {
                var b = bytes[i];
                if (!_opened)
                {
                    _opened = b == (byte)'"' || (b is (byte)':' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'
                        ? false : throw EnvelopeDecryptor.InvalidEnvelope("The envelope field 'encryptedData' must be a base64 string."));
                    i++;
                    continue;
                }
                if (b == (byte)'"')
                {
                    Flush(final: true);
                    closed = true;
                    return i + 1;
                }
                if (b == (byte)'\\')
                {
                    if (i + 1 >= bytes.Length || (bytes[i + 1] == (byte)'u' && i + 6 > bytes.Length))
                    {
                        return final ? throw EnvelopeDecryptor.InvalidEnvelope("The encrypted upload ended inside 'encryptedData'.") : i;
                    }
                    var escaped = bytes[i + 1];
                    if (escaped == (byte)'u')
                    {
                        if (!Utf8Parser.TryParse(bytes.Slice(i + 2, 4), out ushort code, out var hexLength, 'x') || hexLength != 4 || code > 0x7F)
                        {
                            throw InvalidBase64();
                        }
                        Add((byte)code);
                        i += 6;
                        continue;
                    }
                    Add(escaped switch
                    {
                        (byte)'/' or (byte)'\\' or (byte)'"' => escaped,
                        (byte)'n' or (byte)'r' or (byte)'t' => (byte)' ',
                        _ => throw InvalidBase64(),
                    });
                    i += 2;
                    continue;
                }
                Add(b < 0x20 ? throw InvalidBase64() : b);
                i++;
            }
            return i;
        }

        // Whitespace (line-wrapped base64) is dropped; everything else is left to the decoder to judge.
        private void Add(byte b)
        {
            if (b == (byte)' ')
            {
                return;
            }
            if (_pending == _base64.Length)
            {
                Flush(final: false);
            }
            _base64[_pending++] = b;
        }

        // Decodes whole quads, keeping the last one back until the end (it may hold the padding).
        private void Flush(bool final)
        {
            var length = final ? _pending : (_pending - 4) / 4 * 4;
            var status = Base64.DecodeFromUtf8(_base64.AsSpan(0, length), _decoded, out var used, out var written, isFinalBlock: final);
            if (status != OperationStatus.Done)
            {
                throw InvalidBase64();
            }
            Total += written;
            if (Total > maxBytes)
            {
                throw tooLarge();
            }
            sink.Write(_decoded, 0, written);
            _base64.AsSpan(used, _pending - used).CopyTo(_base64);
            _pending -= used;
        }

        private static ApiException InvalidBase64() => EnvelopeDecryptor.InvalidEnvelope("The envelope field 'encryptedData' is not valid base64.");
    }
}
