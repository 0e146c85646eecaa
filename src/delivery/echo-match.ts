import type { EntityManager } from 'typeorm';
import { rowsOf } from 'src/database/sql';

/** An echo of a Radd send made within this long of the send is matched by its text. */
export const ECHO_MATCH_SECONDS = 120;

export interface EchoOfSend {
  mid: string;
  text?: string;
  /** The echo shows an image (the URL is Meta's copy, never the one sent). */
  hasImage: boolean;
  /**
   * When Meta sent the echoed message (its timestamp), not when Radd reads the echo: an echo read
   * late (a backlog, an outage, Meta retrying) is still matched to its send.
   */
  at: Date;
}

/** The echo's own time as matching uses it: Meta's timestamp, else now (none was given). */
export function echoTime(timestampMs: number): Date {
  return timestampMs > 0 ? new Date(timestampMs) : new Date();
}

/**
 * Whether an echo is one of Radd's delivery parts: matched by the provider's message id, else by
 * its text (or, for an image, by being an image) sent in this conversation within two minutes
 * of the echo's own time. A part still waiting for its echo is marked delivered, and its message too once every
 * part is (`matched`); an echo of a part already confirmed (a part sent again after its outcome
 * was lost) is still Radd's own (`repeat`). Null: not a delivery part.
 */
export async function matchEchoToDeliveryPart(
  manager: EntityManager,
  merchantId: string,
  conversationId: string,
  echo: EchoOfSend,
): Promise<'matched' | 'repeat' | null> {
  const parameters = [
    merchantId,
    conversationId,
    echo.mid,
    echo.text ?? null,
    echo.hasImage,
    ECHO_MATCH_SECONDS,
    echo.at.toISOString(),
  ];
  // Within two minutes either way of the echo's own time: Meta's clock is not Radd's.
  const sameSend = `(p.provider_message_id = $3
      OR (p.attempted_at BETWEEN $7::timestamptz - make_interval(secs => $6)
                             AND $7::timestamptz + make_interval(secs => $6)
          AND ((p.kind = 'text' AND p.text = $4) OR (p.kind = 'image' AND $4::text IS NULL AND $5))))`;
  const [part] = await rowsOf<{ message_id: string }>(
    manager,
    `UPDATE delivery_parts SET mid = $3, status = 'delivered', updated_at = now()
      WHERE id = (
        SELECT p.id FROM delivery_parts p JOIN messages m ON m.id = p.message_id
         WHERE p.merchant_id = $1 AND m.conversation_id = $2 AND p.mid IS NULL
           AND p.status IN ('sending', 'sent', 'unknown') AND ${sameSend}
         ORDER BY (p.provider_message_id = $3) DESC NULLS LAST, p.attempted_at, p.seq
         LIMIT 1 FOR UPDATE OF p)
      RETURNING message_id`,
    parameters,
  );
  if (part) {
    await manager.query(
      `UPDATE messages m SET mid = COALESCE(m.mid, $2),
              delivery_status = CASE
                WHEN m.delivery_status IN ('sent', 'unknown') AND NOT EXISTS (
                  SELECT 1 FROM delivery_parts p WHERE p.message_id = m.id AND p.status <> 'delivered')
                THEN 'delivered' ELSE m.delivery_status END
        WHERE m.id = $1`,
      [part.message_id, echo.mid],
    );
    return 'matched';
  }
  const [repeat] = await rowsOf<unknown>(
    manager,
    `SELECT 1 FROM delivery_parts p JOIN messages m ON m.id = p.message_id
      WHERE p.merchant_id = $1 AND m.conversation_id = $2 AND (p.mid = $3 OR ${sameSend})
      LIMIT 1`,
    parameters,
  );
  return repeat ? 'repeat' : null;
}
