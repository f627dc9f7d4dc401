import { TeamsInfo, TurnContext } from 'botbuilder';
import { Person, UserDirectory } from '../src/directory/user-directory';

/**
 * Who sent an activity, decided on the server from the sender's Teams identity mapped through the
 * directory: never from anything the message or card data says.
 */
export interface Sender {
  /** Teams channel account id of the sender. */
  teamsId: string;
  aadObjectId?: string;
  name: string;
  /** The directory entry, when the sender is in it. */
  person?: Person;
}

export async function identifySender(context: TurnContext, directory: UserDirectory): Promise<Sender> {
  const from = context.activity.from ?? { id: '', name: '' };
  const sender: Sender = { teamsId: from.id, name: from.name ?? '' };
  if (from.aadObjectId) {
    sender.aadObjectId = from.aadObjectId;
    const person = directory.byAadObjectId(from.aadObjectId);
    if (person) return { ...sender, person, name: person.displayName };
  }
  // Teams does not put the UPN on activities; ask for the member when the object id is unknown.
  if (context.activity.channelId === 'msteams' && from.id) {
    try {
      const member = await TeamsInfo.getMember(context, from.id);
      const person =
        (member.aadObjectId ? directory.byAadObjectId(member.aadObjectId) : undefined) ??
        (member.userPrincipalName ? directory.byUserPrincipalName(member.userPrincipalName) : undefined) ??
        (member.email ? directory.byUserPrincipalName(member.email) : undefined);
      if (member.aadObjectId) sender.aadObjectId = member.aadObjectId;
      if (person) return { ...sender, person, name: person.displayName };
    } catch {
      // Not resolvable (no roster access here): the sender stays unknown and gets only help.
    }
  }
  return sender;
}
