// The symptom assistant: a conversation, and the patient's earlier ones.

import { el, show } from './dom.js';
import { api } from './session.js';

// Headings of the five triage levels; the reply's advice says what to do.
const TRIAGE = {
  emergency_ambulance: 'Emergency: ambulance',
  emergency: 'Emergency department',
  consultation_24: 'Doctor within 24 hours',
  consultation: 'Doctor in the coming days',
  self_care: 'Self-care',
};

const ANSWERS = { yes: 'Yes', no: 'No', unsure: 'Not sure' };

/** The assistant: a new conversation, or an earlier one (`conversation`) shown from its
 * stored messages and continued. */
export async function showAssistant(conversation = null) {
  const transcript = el('div', { id: 'transcript' });
  const input = el('textarea', { name: 'content', rows: 3, maxlength: 2000, placeholder: 'For example: I have had a sore throat and a temperature for three days' });
  const send = el('button', { type: 'submit' }, 'Send');
  const [earlier, stored] = await Promise.all([
    api('/api/assistant/conversations?limit=20'),
    conversation ? api(`/api/assistant/conversations/${conversation}/messages?limit=200`) : null,
  ]);
  if (stored) {
    const last = stored.items.filter((m) => m.role === 'assistant').pop();
    for (const message of stored.items) {
      if (message.role === 'patient') {
        const said = message.answered ? ANSWERS[message.content] || message.content : message.content;
        transcript.append(el('p', { class: 'said' }, said));
      }
      // Only the last reply's question still waits for an answer.
      else if (message.reply) transcript.append(replyView(message.reply, [], message === last ? post : null));
    }
  }

  async function post(body, said) {
    transcript.append(el('p', { class: 'said' }, said));
    send.disabled = true;
    try {
      const answer = conversation
        ? await api(`/api/assistant/conversations/${conversation}/messages`, { method: 'POST', body })
        : await api('/api/assistant/conversations', { method: 'POST', body });
      if (!conversation) {
        conversation = answer.id;
        history.replaceState(null, '', `#/assistant/${conversation}`);
      }
      transcript.append(replyView(answer.reply, answer.providers || [], post));
    } catch (e) {
      transcript.append(el('p', { class: 'error' }, e.status === 503 ? `The assistant is unavailable: ${e.message}` : e.message));
    } finally {
      send.disabled = false;
    }
  }

  const form = el(
    'form',
    {
      class: 'card',
      id: 'ask',
      onsubmit: (event) => {
        event.preventDefault();
        const content = input.value.trim();
        if (!content) return;
        input.value = '';
        post({ content }, content);
      },
    },
    el('label', {}, 'Describe how you feel, in your own words', input),
    send,
  );
  const past = earlier.items.map((c) =>
    el(
      'li',
      { 'data-conversation': c.id },
      el('a', { href: `#/assistant/${c.id}` }, new Date(c.created_at).toLocaleString()),
      c.last_triage ? ` \u2013 ${TRIAGE[c.last_triage] || c.last_triage}` : ' \u2013 no reply yet',
      el('span', { class: 'muted' }, ` (${c.message_count} messages)`),
    ),
  );
  show(
    el('h1', {}, 'Symptom assistant'),
    el('p', { class: 'muted' }, 'It suggests how urgently to get help and what it might be. It is not a diagnosis. In an emergency call 999 (or your local emergency number).'),
    transcript,
    form,
    past.length
      ? el(
          'section',
          { class: 'card', id: 'earlier' },
          el('h2', {}, 'Earlier conversations'),
          el('p', {}, el('a', { href: '#/assistant' }, 'Start a new conversation')),
          el('ul', {}, past),
        )
      : null,
  );
}

function replyView(reply, providers, post) {
  const triage = reply.triage;
  const card = el(
    'div',
    { class: `reply card triage-${triage.level}`, 'data-triage': triage.level },
    el('h2', {}, TRIAGE[triage.level] || triage.level),
    el('p', {}, triage.advice),
    triage.reasons.length ? el('ul', { class: 'muted' }, triage.reasons.map((r) => el('li', {}, r))) : null,
  );
  if (reply.conditions.length) {
    card.append(
      el('h3', {}, 'What it might be'),
      el(
        'ul',
        { class: 'conditions' },
        reply.conditions.map((c) =>
          el(
            'li',
            {},
            el('span', { class: 'share' }, el('span', { class: 'fill', 'data-share': Math.round(c.probability * 100) })),
            `${c.name} (${c.icd10}) \u2013 ${Math.round(c.probability * 100)} %`,
          ),
        ),
      ),
    );
    // The policy allows no inline style attribute; widths are set through the CSSOM.
    card.querySelectorAll('.fill').forEach((f) => { f.style.width = `${f.dataset.share}%`; });
  }
  if (reply.specialty) card.append(el('p', {}, `Whom to see: ${reply.specialty.replace(/_/g, ' ')}.`));
  if (providers.length) {
    card.append(el('p', {}, 'You could book: ', providers.map((p) => `${p.name}${p.on_care_team ? ' (your care team)' : ''}`).join(', ')));
  }
  if (reply.self_care.length) {
    const heading = reply.triage.level === 'self_care' ? 'Looking after yourself' : 'Until you are seen';
    card.append(el('h3', {}, heading), el('ul', {}, reply.self_care.map((s) => el('li', {}, s))));
  }
  if (reply.question && post) {
    const buttons = reply.question.choices.map((choice) =>
      el('button', {
        type: 'button',
        class: 'secondary',
        'data-answer': choice,
        onclick: () => {
          buttons.forEach((b) => { b.disabled = true; });
          post({ answer: choice }, ANSWERS[choice] || choice);
        },
      }, ANSWERS[choice] || choice),
    );
    card.append(el('div', { class: 'question' }, el('strong', {}, reply.question.text), el('div', { class: 'actions' }, buttons)));
  }
  card.append(el('p', { class: 'disclaimer muted' }, reply.disclaimer));
  return card;
}
