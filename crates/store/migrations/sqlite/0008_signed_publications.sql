-- A publication's SM2-SM3 signature over its snapshot body (DER, base64) and the public key that
-- made it (PEM), written in the publication's own transaction. The private key is never here.
ALTER TABLE publications ADD COLUMN signature TEXT;
ALTER TABLE publications ADD COLUMN public_key TEXT;
